"""Imagine evidence shared by every decoder: per-class z-scoring over the batch, softmax.

A classifier trained on the localizer shows class offsets and scale
differences on imagery data; z-scoring each class's decision values over all
imagine epochs and times of the subject (no labels involved) removes them
before the evidence is averaged over time. Kept free of heavy imports: every
decoder file imports it at module level.
"""

from __future__ import annotations

from collections.abc import Callable

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


def _pool_mean(z: np.ndarray) -> np.ndarray:
    """Average over positions, times ``sqrt(n_positions)`` (see :func:`evidence_to_proba`)."""
    return z.mean(axis=1) * np.sqrt(max(z.shape[1], 1))


def _pool_max(z: np.ndarray) -> np.ndarray:
    """Maximum over positions (a brief event of unknown latency)."""
    return z.max(axis=1)


#: How per-position evidence becomes one logit per class: ``name -> f(z) -> logits``,
#: ``z`` of shape (n_epochs, n_positions, n_classes) already z-scored per class
#: over the batch. A new pooling is one function and one entry here.
POOLINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"mean": _pool_mean, "max": _pool_max}


def check_pooling(pooling: str) -> None:
    """Raise ValueError naming the allowed values if ``pooling`` is not one of :data:`POOLINGS`."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}.")


def pooled_proba(evidence: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """Probabilities from evidence at every scanned position of every imagine epoch.

    Each class is z-scored over all epochs and positions of the batch
    (:func:`zscore_over_batch`, no label involved: it removes the class
    offsets and scale differences a localizer-trained classifier shows on
    imagery), pooled over positions (:data:`POOLINGS`) and softmaxed.

    Parameters
    ----------
    evidence : ndarray, shape (n_epochs, n_positions, n_classes)
        Larger means more likely (decision values, log-probabilities,
        negated distances).
    pooling : str
        A key of :data:`POOLINGS`: ``'mean'`` (average, scaled so that
        independent unit-variance noise gives unit-variance logits) or
        ``'max'``.

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    check_pooling(pooling)
    return softmax(POOLINGS[pooling](zscore_over_batch(evidence, (0, 1))), axis=1)


def scanned_proba(course: np.ndarray, scan: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """:func:`pooled_proba` of a per-time evidence course over the scanned imagine times.

    Parameters
    ----------
    course : ndarray, shape (n_epochs, n_times, n_classes)
        Decision values (or log-odds) at every imagine time.
    scan : ndarray of bool, shape (n_times,)
        The imagine times that count.
    pooling : str
        A key of :data:`POOLINGS`.

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    return pooled_proba(course[:, scan], pooling)
