"""Balanced assignment (Hungarian algorithm): one implementation, owned by the harness.

The design of the challenge gives every item about the same number of
imagine trials; labelling a batch under that constraint is an assignment
problem. Pure numpy/scipy: :mod:`benchmark.scoring` scores with it, and
decoders may import it (``self-training`` pseudo-labels with it), as they
import :mod:`benchmark.contract`.

References
----------
Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval
Research Logistics Quarterly, 2(1-2), 83-97.
"""

from __future__ import annotations

import numpy as np


def balanced_assignment(scores: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Label a batch so that class ``c`` gets ``counts[c]`` epochs, maximising the summed scores.

    Parameters
    ----------
    scores : ndarray, shape (n_epochs, n_classes)
        Higher means more likely (log-probabilities, z-scored evidence).
    counts : ndarray of int, shape (n_classes,) or None
        Slots per class; they must hold the batch (``sum >= n_epochs``);
        with exactly ``n_epochs`` slots every slot is filled. None offers
        every class ``ceil(n_epochs / n_classes)`` slots, i.e. class counts
        differ by at most one.

    Returns
    -------
    ndarray of int, shape (n_epochs,)
        Column index of the class given to each epoch.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D and finite, or the slots cannot hold the batch.
    """
    from scipy.optimize import linear_sum_assignment

    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or not np.isfinite(scores).all():
        raise ValueError(
            f"scores must be a finite 2-D (n_epochs, n_classes) array, got shape {scores.shape}."
        )
    n_epochs, n_classes = scores.shape
    if counts is None:
        counts = np.full(n_classes, -(-n_epochs // n_classes))
    counts = np.asarray(counts, dtype=int)
    if counts.shape != (n_classes,) or (counts < 0).any() or counts.sum() < n_epochs:
        raise ValueError(
            f"counts must give one non-negative number of slots per class ({n_classes}) holding the "
            f"{n_epochs} epochs, got {counts.tolist()}; raise the counts."
        )
    slots = np.repeat(np.arange(n_classes), counts)
    rows, cols = linear_sum_assignment(-scores[:, slots])
    labels = np.empty(n_epochs, dtype=int)
    labels[rows] = slots[cols]
    return labels
