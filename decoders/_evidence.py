"""Imagine evidence shared by every decoder: per-class z-scoring over the batch, softmax.

A classifier trained on the localizer shows class offsets and scale
differences on imagery data; z-scoring each class's decision values over all
imagine epochs and times of the subject (no labels involved) removes them
before the evidence is averaged over time. Kept free of heavy imports: every
decoder file imports it at module level.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax


def zscore_over_batch(
    values: np.ndarray, axes: int | tuple[int, ...], reference: np.ndarray | None = None
) -> np.ndarray:
    """Z-score values per class (last axis) over the given batch axes.

    Parameters
    ----------
    values : ndarray, shape (..., n_classes)
        Decision values or correlations.
    axes : int or tuple of int
        Axes over which mean and standard deviation are taken (e.g. epochs
        and imagine times).
    reference : ndarray or None
        Values the statistics are computed on (e.g. only the scanned imagine
        times); default ``values``. Must broadcast like ``values``.

    Returns
    -------
    ndarray, same shape as ``values``
        A new array; constant classes are centred only.
    """
    reference = values if reference is None else reference
    mean = reference.mean(axis=axes, keepdims=True)
    std = reference.std(axis=axes, keepdims=True)
    return (values - mean) / np.where(std > 0, std, 1.0)


def evidence_to_proba(evidence: np.ndarray, n_times: int) -> np.ndarray:
    """Softmax of time-averaged z-scored evidence.

    Parameters
    ----------
    evidence : ndarray, shape (n_epochs, n_classes)
        Mean over ``n_times`` imagine times of per-class z-scored values.
    n_times : int
        Number of averaged time points; the evidence is multiplied by
        ``sqrt(n_times)`` so that independent unit-variance noise would give
        unit-variance logits (a fixed temperature; rankings do not depend on
        it).

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    return softmax(evidence * np.sqrt(max(n_times, 1)), axis=1)


def scanned_proba(course: np.ndarray, scan: np.ndarray) -> np.ndarray:
    """Probabilities from a per-time evidence course, over the scanned imagine times.

    Each class is z-scored over all epochs and scanned times
    (:func:`zscore_over_batch`), averaged over those times and turned into
    probabilities by :func:`evidence_to_proba`.

    Parameters
    ----------
    course : ndarray, shape (n_epochs, n_times, n_classes)
        Decision values (or log-odds) at every imagine time.
    scan : ndarray of bool, shape (n_times,)
        The imagine times that count.

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    evidence = zscore_over_batch(course[:, scan], (0, 1)).mean(axis=1)
    return evidence_to_proba(evidence, int(np.count_nonzero(scan)))
