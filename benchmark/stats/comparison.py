"""Paired comparisons of decoders over subjects: sign-flip tests, Holm, the tied-with-best group."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.stats.chance import derive_seed
from benchmark.stats.group import sign_flip_p, smallest_sign_flip_p


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs are kept and not counted).

    ``p_adj[(i)] = max_{j <= i} min(1, (m - j) * p_(j))`` over the p-values
    sorted increasingly (``j`` from 0).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adjusted)
    return out


def paired_scores(
    results: pd.DataFrame, decoders: Sequence[str], metric: str = "imagine_accuracy"
) -> pd.DataFrame:
    """Subjects x decoders table of ``metric`` (NaN where a task failed)."""
    wide = results.pivot_table(index="subject", columns="decoder", values=metric, aggfunc="mean")
    wide = wide.reindex(columns=list(decoders))
    return wide.dropna(axis=0, how="all")


@dataclass(frozen=True)
class Comparisons:
    """Pairwise decoder comparisons on per-subject scores.

    Attributes
    ----------
    decoders : list of str
        Row and column order.
    n_subjects : int
        Subjects with a score from at least one compared decoder.
    mean_diff : DataFrame
        ``mean_diff.loc[a, b]`` mean of ``a - b`` over the subjects both
        decoders have a score for (``n_pairs.loc[a, b]`` of them).
    p_greater : DataFrame
        One-sided paired sign-flip p-value that ``a`` scores higher than
        ``b`` (:func:`sign_flip_p` on the differences: the test of
        :func:`moabb.analysis.meta_analysis.compute_pvals_perm`, exact up to
        :data:`MAX_EXACT_SIGN_FLIP` subjects where MOABB switches to random
        flips above 13).
    p_holm : DataFrame
        Two-sided p-value ``min(1, 2 * min(p(a>b), p(b>a)))``, Holm-corrected
        over the ``k (k - 1) / 2`` pairs (symmetric).
    best : str or None
        Decoder with the highest mean.
    tied_p : dict of str to float
        For every other decoder, the Holm-corrected (over the ``k - 1``
        comparisons with the best) one-sided p-value that the best is better.
    n_pairs : DataFrame
        Number of subjects each comparison is based on.
    """

    decoders: list[str]
    n_subjects: int
    mean_diff: pd.DataFrame
    p_greater: pd.DataFrame
    p_holm: pd.DataFrame
    best: str | None
    tied_p: dict[str, float]
    n_pairs: pd.DataFrame

    @property
    def min_p_tied(self) -> float:
        """Smallest Holm-corrected p-value the comparisons with the best can reach.

        ``(k - 1) * p_min`` with ``p_min`` from :func:`smallest_sign_flip_p`:
        Holm multiplies the smallest of ``k - 1`` p-values by ``k - 1``. NaN
        without a best decoder or other decoders.
        """
        if self.best is None or not self.tied_p:
            return float("nan")
        return min(1.0, len(self.tied_p) * smallest_sign_flip_p(self.n_subjects))

    @property
    def min_p_pairwise(self) -> float:
        """Smallest two-sided, Holm-corrected p-value of the pairwise matrix.

        ``k (k - 1) / 2`` pairs times the smallest two-sided p ``2 p_min``.
        """
        k = len(self.decoders)
        if k < 2 or self.n_subjects < 2:
            return float("nan")
        return min(1.0, k * (k - 1) / 2 * min(1.0, 2 * smallest_sign_flip_p(self.n_subjects)))

    def can_separate_from_best(self, alpha: float = 0.05) -> bool:
        """Whether any decoder could be found significantly below the best at ``alpha``.

        False when there are too few subjects for the corrected sign-flip test:
        then "not significantly below the best" holds for every decoder
        whatever the scores, and says nothing.
        """
        return bool(self.min_p_tied <= alpha)

    def can_separate_pairs(self, alpha: float = 0.05) -> bool:
        """Whether any pair of the matrix could be significant at ``alpha`` (see :attr:`min_p_pairwise`)."""
        return bool(self.min_p_pairwise <= alpha)

    def tied_with_best(self, alpha: float = 0.05) -> list[str]:
        """Return the best decoder and every decoder not significantly worse than it."""
        if self.best is None:
            return []
        return [self.best] + [d for d, p in self.tied_p.items() if not p <= alpha]


def compare_decoders(wide: pd.DataFrame, *, seed: int = 0) -> Comparisons:
    """Compare every pair of decoders on their per-subject scores.

    Parameters
    ----------
    wide : DataFrame
        Subjects x decoders (see :func:`paired_scores`); NaN scores are
        left out pair by pair.
    seed : int
        Seed of the random sign flips (used above :data:`MAX_EXACT_SIGN_FLIP`
        subjects; fewer are enumerated exactly).

    Returns
    -------
    Comparisons
    """
    decoders = [str(c) for c in wide.columns]
    k, n = len(decoders), len(wide)
    empty = pd.DataFrame(np.nan, index=decoders, columns=decoders)
    if k == 0 or n < 2:
        return Comparisons(decoders, n, empty, empty.copy(), empty.copy(), None, {}, empty.copy())
    values = wide.to_numpy(dtype=float)
    diff = np.full((k, k), np.nan)
    p_greater = np.full((k, k), np.nan)
    pairs = np.zeros((k, k), dtype=int)
    for i, j in itertools.permutations(range(k), 2):
        d = values[:, i] - values[:, j]
        d = d[np.isfinite(d)]  # each pair on the subjects both decoders have a score for
        pairs[i, j] = d.size
        if d.size >= 2:
            diff[i, j] = d.mean()
            p_greater[i, j] = sign_flip_p(d, seed=derive_seed(seed, decoders[i], decoders[j]))
    mean_diff = pd.DataFrame(diff, index=decoders, columns=decoders)
    p_greater = pd.DataFrame(p_greater, index=decoders, columns=decoders)

    iu = np.triu_indices(k, 1)
    two_sided = np.minimum(1.0, 2 * np.minimum(p_greater.to_numpy()[iu], p_greater.to_numpy().T[iu]))
    adjusted = np.full((k, k), np.nan)
    adjusted[iu] = holm(two_sided)
    adjusted.T[iu] = adjusted[iu]
    p_holm = pd.DataFrame(adjusted, index=decoders, columns=decoders)

    means = np.nanmean(np.where(np.isfinite(values), values, np.nan), axis=0)
    best = decoders[int(np.nanargmax(means))]
    others = [d for d in decoders if d != best]
    tied = holm([p_greater.loc[best, d] for d in others])
    n_pairs = pd.DataFrame(pairs, index=decoders, columns=decoders)
    return Comparisons(
        decoders,
        n,
        mean_diff,
        p_greater,
        p_holm,
        best,
        dict(zip(others, tied.tolist(), strict=True)),
        n_pairs,
    )
