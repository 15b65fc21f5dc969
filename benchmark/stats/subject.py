"""Per-subject statistics: binomial and label-permutation p-values of one subject's trials."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import stats

from benchmark import scoring
from benchmark.stats.chance import CHANCE_LEVELS, MAX_EXACT_TRIALS


def binomial_p(n_correct: int, n_trials: int, chance: float = 0.1) -> float:
    """Exact one-sided binomial p-value of ``n_correct`` or more hits at ``chance``.

    Parameters
    ----------
    n_correct : int
        Number of correctly decoded trials.
    n_trials : int
        Number of trials.
    chance : float
        Probability of a hit under the null hypothesis.

    Returns
    -------
    float
        ``P(K >= n_correct)`` for ``K ~ Binomial(n_trials, chance)``; NaN when
        there are no trials.
    """
    if n_trials <= 0:
        return float("nan")
    if not 0 <= n_correct <= n_trials:
        raise ValueError(f"n_correct must lie in 0..{n_trials}, got {n_correct}.")
    return float(stats.binomtest(int(n_correct), int(n_trials), chance, alternative="greater").pvalue)


def hit_table(proba: np.ndarray, kind: str, counts: np.ndarray | None = None) -> np.ndarray:
    """Which true class would make each trial a hit, for one metric.

    Predictions do not depend on the true labels, so a metric's score under
    any relabelling is the mean of ``table[i, label_i]``.

    Parameters
    ----------
    proba : ndarray, shape (n_trials, n_classes)
        Class probabilities.
    kind : str
        ``"imagine_accuracy"`` (top-1), ``"top3"`` or ``"balanced_accuracy"``.
    counts : ndarray of int, shape (n_classes,)
        Class counts, required for ``"balanced_accuracy"``.

    Returns
    -------
    ndarray of bool, shape (n_trials, n_classes)
    """
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape
    table = np.zeros((n, k), dtype=bool)
    if kind == "imagine_accuracy":
        table[np.arange(n), proba.argmax(axis=1)] = True
    elif kind == "top3":
        top = np.argsort(-proba, axis=1, kind="stable")[:, :3]
        table[np.arange(n)[:, None], top] = True
    elif kind == "balanced_accuracy":
        if counts is None:
            raise ValueError("counts are required for kind='balanced_accuracy'.")
        table[np.arange(n), scoring.balanced_assignment(proba, counts)] = True
    else:
        raise ValueError(f"kind must be 'imagine_accuracy', 'top3' or 'balanced_accuracy', got {kind!r}.")
    return table


def label_permutation_p(table: np.ndarray, y: np.ndarray, *, n_permutations: int = 10000, seed=0) -> float:
    """One-sided p-value of the hit count against relabellings of the trials.

    The true labels are permuted among the subject's trials. With at most
    :data:`MAX_EXACT_TRIALS` trials every distinct arrangement is enumerated
    (exact p); otherwise ``n_permutations`` random permutations are drawn and
    ``p = (1 + #{perm >= observed}) / (1 + n_permutations)``, which is a
    valid p-value.

    Parameters
    ----------
    table : ndarray of bool, shape (n_trials, n_classes)
        From :func:`hit_table`.
    y : ndarray of int, shape (n_trials,)
        True class indices.
    n_permutations : int
        Random permutations when not enumerating.
    seed : int or SeedSequence
        Seed of the permutations.

    Returns
    -------
    float
    """
    return float(label_permutation_ps([table], y, n_permutations=n_permutations, seed=seed)[0])


def label_permutation_ps(
    tables: Sequence[np.ndarray], y: np.ndarray, *, n_permutations: int = 10000, seed=0
) -> np.ndarray:
    """:func:`label_permutation_p` of several hit tables under the same relabellings.

    The permutations are drawn once and shared by every table (common
    random numbers), so each p equals ``label_permutation_p(table, y, ...)``
    with the same seed.

    Parameters
    ----------
    tables : sequence of ndarray of bool, each shape (n_trials, n_classes)
        From :func:`hit_table` (one per metric).
    y, n_permutations, seed
        As in :func:`label_permutation_p`.

    Returns
    -------
    ndarray of float, shape (len(tables),)
    """
    stacked = np.ascontiguousarray(tables, dtype=bool)
    y = np.asarray(y, dtype=int)
    n = y.size
    if n == 0:
        return np.full(len(stacked), np.nan)
    rows = np.arange(n)
    observed = stacked[:, rows, y].sum(axis=1)
    # hits of relabelling r: sum_i table[i, labels[r, i]], gathered from the flat
    # 0/1 bytes (8x faster than boolean fancy indexing over 10,000 relabellings)
    flat = stacked.reshape(len(stacked), -1).view(np.int8)

    def hits(labels: np.ndarray) -> np.ndarray:
        return np.take(flat, rows * stacked.shape[2] + labels, axis=1).sum(axis=2, dtype=np.int64)

    if n <= MAX_EXACT_TRIALS:
        arrangements = np.array(sorted(set(itertools.permutations(y.tolist()))), dtype=int)
        return np.mean(hits(arrangements) >= observed[:, None], axis=1)
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.broadcast_to(y, (n_permutations, n)), axis=1)
    return (1 + np.sum(hits(perms) >= observed[:, None], axis=1)) / (1 + n_permutations)


def subject_stats(
    proba: np.ndarray, y: np.ndarray, *, n_permutations: int = 10000, seed=0
) -> dict[str, float]:
    """Every per-subject statistic of one decoder on one subject.

    Parameters
    ----------
    proba : ndarray, shape (n_trials, n_classes)
        Imagine probabilities.
    y : ndarray of int, shape (n_trials,)
        True class indices.
    n_permutations : int
        Random label permutations (shared by the three metrics).
    seed : int or SeedSequence
        Seed of the permutations.

    Returns
    -------
    dict
        ``imagine_accuracy``, ``balanced_accuracy``, ``top3``, ``n_correct``,
        ``p_binomial`` (top-1 vs 0.10), ``p_permutation`` (top-1),
        ``p_permutation_balanced`` and ``p_permutation_top3``.
    """
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y, dtype=int)
    counts = np.bincount(y, minlength=proba.shape[1])
    out: dict[str, float] = {}
    names = {
        "imagine_accuracy": "p_permutation",
        "balanced_accuracy": "p_permutation_balanced",
        "top3": "p_permutation_top3",
    }
    tables = [hit_table(proba, kind, counts) for kind in names]
    for kind, table in zip(names, tables, strict=True):
        hits = int(table[np.arange(y.size), y].sum())
        out[kind] = hits / y.size if y.size else float("nan")
        if kind == "imagine_accuracy":
            out["n_correct"] = hits
            out["p_binomial"] = binomial_p(hits, y.size, CHANCE_LEVELS["imagine_accuracy"])
    # the same permutations for the three metrics (common random numbers)
    p_values = label_permutation_ps(tables, y, n_permutations=n_permutations, seed=seed)
    out.update({p_name: float(p) for p_name, p in zip(names.values(), p_values, strict=True)})
    return out
