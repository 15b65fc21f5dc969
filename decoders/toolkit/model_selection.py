"""Model selection inside a decoder: the inner CV, the seeding of nested estimators, peak picking.

- :func:`make_inner_cv`: the one inner cross-validation of every decoder
  (shuffled stratified K-fold, capped by the rarest class);
- :func:`seed_estimator`: every ``random_state`` of a (nested) estimator;
- :func:`pick_peak`: the best time of a (smoothed) accuracy curve inside a
  search mask;
- :func:`accuracy_weights`: training-time weights from an accuracy curve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.model_selection import StratifiedKFold


def make_inner_cv(y: np.ndarray, n_splits: int, random_state: int | None) -> StratifiedKFold:
    """Shuffled stratified K-fold with at most as many folds as the rarest class allows.

    Parameters
    ----------
    y : ndarray, shape (n_epochs,)
        Labels.
    n_splits : int
        Wanted number of folds (>= 2).
    random_state : int or None
        Seed of the shuffling.

    Returns
    -------
    StratifiedKFold

    Raises
    ------
    ValueError
        If ``n_splits`` < 2 or a class has fewer than 2 epochs.
    """
    from sklearn.model_selection import StratifiedKFold

    if n_splits < 2:
        raise ValueError(f"n_splits must be >= 2, got {n_splits}.")
    min_count = int(np.bincount(np.unique(y, return_inverse=True)[1]).min())
    if min_count < 2:
        raise ValueError(
            f"Inner cross-validation needs at least 2 epochs per class; the rarest class has {min_count}."
        )
    return StratifiedKFold(n_splits=min(n_splits, min_count), shuffle=True, random_state=random_state)


def seed_estimator(estimator, random_state: int | None):
    """Set every ``random_state`` parameter of ``estimator`` (nested too); return it."""
    seeds = {
        key: random_state
        for key in estimator.get_params()
        if key == "random_state" or key.endswith("__random_state")
    }
    return estimator.set_params(**seeds)


def pick_peak(curve: np.ndarray, mask: np.ndarray, width: int = 1) -> int:
    """Index of the best value of ``curve`` inside ``mask``, after a moving average.

    Parameters
    ----------
    curve : ndarray, shape (n_times,)
        Cross-validated accuracy at each time.
    mask : ndarray of bool, shape (n_times,)
        Times allowed (e.g. :func:`decoders.toolkit.times.time_mask` of a search
        interval); the moving average still sees the whole curve.
    width : int
        Samples of the centred moving average applied first (1: none).

    Returns
    -------
    int
        The first index of the maximum (ties: the earliest time).
    """
    from decoders.toolkit.times import moving_average

    candidates = np.flatnonzero(mask)
    if len(candidates) == 0:
        raise ValueError("the peak search holds no sample.")
    smoothed = moving_average(np.asarray(curve, dtype=float), width)
    return int(candidates[np.argmax(smoothed[candidates])])


def accuracy_weights(curve: np.ndarray, chance: float, margin: float = 0.0) -> np.ndarray:
    """Weights proportional to accuracy above chance, zero at or below it.

    Parameters
    ----------
    curve : ndarray, shape (n_times,)
        Cross-validated accuracy at each training time.
    chance : float
        Chance accuracy (e.g. 1 / n_classes).
    margin : float
        Accuracy that must be exceeded above chance before a time gets any
        weight (>= 0).

    Returns
    -------
    ndarray, shape (n_times,)
        Non-negative weights summing to 1, or all zeros when no time is
        above ``chance + margin``.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}.")
    excess = np.clip(np.asarray(curve, dtype=float) - chance - margin, 0.0, None)
    total = excess.sum()
    return excess / total if total > 0 else excess
