"""Time courses: true-class evidence over imagine time and the cluster test of the subjects' curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def true_class_evidence(course: np.ndarray, y: np.ndarray, classes: Sequence, order: Sequence) -> np.ndarray:
    """Mean over trials of true-class evidence minus the other classes' mean.

    Parameters
    ----------
    course : ndarray, shape (n_trials, n_times, n_classes)
        A decoder's ``imagine_time_course`` output, columns in ``classes`` order.
    y : ndarray of int, shape (n_trials,)
        True class indices in ``order``.
    classes : sequence
        The estimator's ``classes_``.
    order : sequence of str
        The harness's class order (``CLASS_NAMES``).

    Returns
    -------
    ndarray, shape (n_times,)
        0 means no evidence for the true class.
    """
    course = np.asarray(course, dtype=float)
    names = [str(c) for c in classes]
    course = course[:, :, [names.index(c) for c in order]]
    y = np.asarray(y, dtype=int)
    true = course[np.arange(len(y)), :, y]
    others = (course.sum(axis=2) - true) / (course.shape[2] - 1)
    return (true - others).mean(axis=0)


@dataclass(frozen=True)
class Cluster:
    """A cluster of consecutive time points where evidence exceeds chance.

    Attributes
    ----------
    start, stop : int
        Sample indices (``stop`` exclusive).
    tmin, tmax : float
        First and last time of the cluster in seconds.
    p : float
        Cluster-level permutation p-value.
    """

    start: int
    stop: int
    tmin: float
    tmax: float
    p: float


def cluster_test(
    curves: np.ndarray, times: np.ndarray, *, n_permutations: int = 1024, seed: int = 0
) -> list[Cluster]:
    """One-sided cluster permutation test of subjects' evidence curves against 0.

    Wraps :func:`mne.stats.permutation_cluster_1samp_test` (``tail=1``;
    all ``2**n`` sign flips when that is at most ``n_permutations``).

    Parameters
    ----------
    curves : ndarray, shape (n_subjects, n_times)
        One evidence curve per subject (0 = chance).
    times : ndarray, shape (n_times,)
        Time of each sample.
    n_permutations : int
        Sign-flip permutations.
    seed : int
        Seed of the permutations.

    Returns
    -------
    list of Cluster
        Every cluster found, in time order; empty with fewer than two
        subjects or no variance.
    """
    from mne.stats import permutation_cluster_1samp_test

    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] < 2 or not np.isfinite(curves).all():
        return []
    if np.any(curves.std(axis=0) == 0):
        return []
    _, clusters, pvals, _ = permutation_cluster_1samp_test(
        curves, tail=1, n_permutations=n_permutations, rng=np.random.default_rng(seed), out_type="mask",
        verbose="error",
    )  # fmt: skip
    found = []
    for cluster, p in zip(clusters, pvals, strict=True):
        mask = np.zeros(curves.shape[1], dtype=bool)
        mask[cluster] = True  # 1-D clusters come as (slice,), others as boolean masks
        idx = np.flatnonzero(mask)
        found.append(
            Cluster(int(idx[0]), int(idx[-1]) + 1, float(times[idx[0]]), float(times[idx[-1]]), float(p))
        )
    return sorted(found, key=lambda c: c.start)
