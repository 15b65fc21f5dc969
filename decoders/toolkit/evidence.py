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
from scipy.ndimage import uniform_filter1d
from scipy.special import logsumexp, softmax


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


def _pool_mean(z: np.ndarray, step: float) -> np.ndarray:
    """Average over positions, times ``sqrt(n_positions)``: unit-variance logits for independent noise."""
    return z.mean(axis=1) * np.sqrt(max(z.shape[1], 1))


def _pool_max(z: np.ndarray, step: float) -> np.ndarray:
    """Maximum over positions (a brief event of unknown latency)."""
    return z.max(axis=1)


#: Duration (s) the adaptive pooling smooths evidence over: a matched filter for a ~0.5 s event.
ADAPTIVE_WIDTH_S = 0.5
#: Unit-SNR scale of the adaptive pooling's soft maximum (0: prior-weighted mean; large: maximum).
ADAPTIVE_BETA = 2.0
#: Share of the adaptive pooling's time prior spread uniformly, so that no time is excluded.
ADAPTIVE_FLOOR = 0.05


def time_prior(z: np.ndarray) -> np.ndarray:
    """Where the batch carries class information: a label-free prior over positions.

    The variance over epochs of each class's z-scored evidence, averaged over
    classes, rises where many epochs carry a class pattern at the same
    latency; its excess over the median, normalised, plus a uniform floor of
    :data:`ADAPTIVE_FLOOR`, is the prior.

    Parameters
    ----------
    z : ndarray, shape (n_epochs, n_positions, n_classes)
        Evidence z-scored per class over the batch.

    Returns
    -------
    ndarray, shape (n_positions,)
        Positive weights summing to ``1 + ADAPTIVE_FLOOR`` (or to
        ``ADAPTIVE_FLOOR`` when no position stands out).
    """
    spread = z.var(axis=0).mean(axis=1)
    excess = np.clip(spread - np.median(spread), 0.0, None)
    total = excess.sum()
    return (excess / total if total > 0 else excess) + ADAPTIVE_FLOOR / z.shape[1]


def remove_epoch_offsets(z: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
    """Remove each epoch's constant evidence offset, weighted away from where the batch carries information.

    Baseline correction subtracts one noise vector (the baseline's mean of
    slow, 1/f noise) from every sample of an epoch, so each epoch's evidence
    for each class carries an offset that lasts the whole epoch and does not
    average out over time. It is estimated per epoch and class as the
    evidence's mean over ``positions`` weighted by the inverse of the batch's
    :func:`time_prior` (positions where imagery is unlikely count most, so
    the offset takes little of the imagery itself), subtracted from every
    position, and the result z-scored per class over the batch (statistics
    over ``positions``) again. No label is used and every class is treated
    alike.

    Parameters
    ----------
    z : ndarray, shape (n_epochs, n_positions, n_classes)
        Evidence z-scored per class over the batch.
    positions : ndarray of bool, shape (n_positions,) or None
        Positions the offsets and statistics are taken from (e.g. the
        scanned imagine times); None: all.

    Returns
    -------
    ndarray, same shape as ``z``
        A new array.
    """
    positions = np.ones(z.shape[1], dtype=bool) if positions is None else np.asarray(positions, dtype=bool)
    weights = 1.0 / time_prior(z[:, positions])
    weights /= weights.sum()
    centred = z - np.einsum("ntk,t->nk", z[:, positions], weights)[:, None, :]
    return zscore_over_batch(centred, (0, 1), reference=centred[:, positions])


def _pool_adaptive(z: np.ndarray, step: float) -> np.ndarray:
    """Soft maximum over time under a label-free time prior: sustained, brief or repeated imagery.

    Imagery happens at a latency nobody knows: a sustained plateau at a
    consistent latency, one brief burst anywhere, or several bursts. Per
    epoch and class this is the log-likelihood ratio of an event of SNR
    :data:`ADAPTIVE_BETA` at an unknown time: ``log sum_t p(t) exp(beta *
    s_t)``, where ``s`` is the evidence smoothed over
    :data:`ADAPTIVE_WIDTH_S` (and z-scored again over the batch) and ``p``
    the batch's :func:`time_prior`. It tends to the prior-weighted mean for
    weak events and to the maximum for strong ones. Every step treats the
    classes alike and uses no label, so without class information in the
    imagery the accuracy stays at chance: the variance of the logits rises,
    not their mean.
    """
    width = max(1, min(z.shape[1], int(round(ADAPTIVE_WIDTH_S / step)))) if step > 0 else 1
    smooth = zscore_over_batch(uniform_filter1d(z, width, axis=1, mode="nearest"), (0, 1))
    log_prior = np.log(time_prior(z))[None, :, None]
    return logsumexp(ADAPTIVE_BETA * smooth + log_prior, axis=1)


#: How per-position evidence becomes one logit per class: ``name -> f(z, step) -> logits``,
#: ``z`` of shape (n_epochs, n_positions, n_classes) already z-scored per class
#: over the batch, ``step`` the time (s) between positions. A new pooling is
#: one function and one entry here.
POOLINGS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "adaptive": _pool_adaptive,
    "mean": _pool_mean,
    "max": _pool_max,
}

#: The pooling every scanning decoder uses unless it says otherwise.
DEFAULT_POOLING = "adaptive"


def check_pooling(pooling: str) -> None:
    """Raise ValueError naming the allowed values if ``pooling`` is not one of :data:`POOLINGS`."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}.")


def pooled_proba(evidence: np.ndarray, pooling: str = DEFAULT_POOLING, step: float = 0.01) -> np.ndarray:
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
        A key of :data:`POOLINGS`: ``'adaptive'`` (soft maximum under a
        label-free time prior, :func:`_pool_adaptive`), ``'mean'`` (average,
        scaled so that independent unit-variance noise gives unit-variance
        logits) or ``'max'``.
    step : float
        Time (s) between consecutive positions (``1 / sfreq`` for a
        per-sample course, the stride for sliding windows).

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    check_pooling(pooling)
    return softmax(POOLINGS[pooling](zscore_over_batch(evidence, (0, 1)), float(step)), axis=1)
