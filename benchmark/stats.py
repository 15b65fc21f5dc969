"""Statistics of the benchmark: pure functions on scores and probabilities.

Per subject
    Top-1, balanced-assignment and top-3 accuracy come from
    :mod:`benchmark.scoring`; here: the exact binomial p-value of the number
    of correct trials against chance (:func:`binomial_p`) and a label
    permutation p-value (:func:`label_permutation_p`) that permutes the true
    labels among the subject's trials. The permutation keeps the class counts,
    so the balanced assignment (which depends on the counts only) is
    unchanged by it and the test is exact for every metric here.
Group (over subjects)
    Mean, median, a 95 % bootstrap interval (:func:`scipy.stats.bootstrap`,
    BCa, seeded), a one-sided t-test, a one-sided Wilcoxon signed-rank test and
    an exact sign-flip permutation test against the metric's own chance level
    (:data:`CHANCE_LEVELS`: 0.10 for top-1 and balanced-assignment accuracy,
    0.30 for top-3).
Decoder comparisons
    Paired sign-flip permutation tests on per-subject scores, Holm-corrected
    (:func:`holm`); the decoders whose difference from the best is not
    significant after correction form the "tied with the best" group. The
    test is the one of :func:`moabb.analysis.meta_analysis.compute_pvals_perm`
    (``tests/test_stats.py`` checks they agree), computed here because
    importing :mod:`moabb` takes 5-15 s and its exact branch stops at 13
    subjects (the real data has 15 train subjects).
Time courses
    :func:`true_class_evidence` reduces a decoder's imagine time course to
    the evidence of the true class minus the mean of the other classes;
    :func:`cluster_test` tests the subjects' curves against 0 with
    :func:`mne.stats.permutation_cluster_1samp_test`.

MOABB's ``compute_dataset_statistics`` draws its permutations without a seed
and its one-sided Wilcoxon (``compute_pvals_wilcoxon``) takes its direction
from the sign of the mean difference rather than from the signed ranks
(moabb issue #1176), so neither is used; the Wilcoxon tests here call
:func:`scipy.stats.wilcoxon` with ``alternative="greater"``.
"""

from __future__ import annotations

import itertools
import math
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchmark import scoring

#: Chance level of each per-subject metric with ten balanced classes.
CHANCE_LEVELS: dict[str, float] = {"score": 0.10, "balanced_accuracy": 0.10, "top3": 0.30}

#: Largest number of subjects for which the sign-flip test enumerates all 2**n flips.
MAX_EXACT_SIGN_FLIP = 20

#: Largest number of trials for which the label permutation test enumerates all arrangements.
MAX_EXACT_TRIALS = 8

_TOL = 1e-12


def derive_seed(seed: int, *keys: str) -> np.random.SeedSequence:
    """Build a seed sequence from the run seed and names (stable across processes)."""
    return np.random.SeedSequence([int(seed) % 2**32, *(zlib.crc32(k.encode()) for k in keys)])


# ----------------------------------------------------------------- per subject
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
        ``"score"`` (top-1), ``"top3"`` or ``"balanced_accuracy"``.
    counts : ndarray of int, shape (n_classes,)
        Class counts, required for ``"balanced_accuracy"``.

    Returns
    -------
    ndarray of bool, shape (n_trials, n_classes)
    """
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape
    table = np.zeros((n, k), dtype=bool)
    if kind == "score":
        table[np.arange(n), proba.argmax(axis=1)] = True
    elif kind == "top3":
        top = np.argsort(-proba, axis=1, kind="stable")[:, :3]
        table[np.arange(n)[:, None], top] = True
    elif kind == "balanced_accuracy":
        if counts is None:
            raise ValueError("counts are required for kind='balanced_accuracy'.")
        table[np.arange(n), scoring.balanced_assignment(proba, counts)] = True
    else:
        raise ValueError(f"kind must be 'score', 'top3' or 'balanced_accuracy', got {kind!r}.")
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
        ``score``, ``balanced_accuracy``, ``top3``, ``n_correct``,
        ``p_binomial`` (top-1 vs 0.10), ``p_permutation`` (top-1),
        ``p_permutation_balanced`` and ``p_permutation_top3``.
    """
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y, dtype=int)
    counts = np.bincount(y, minlength=proba.shape[1])
    out: dict[str, float] = {}
    names = {
        "score": "p_permutation",
        "balanced_accuracy": "p_permutation_balanced",
        "top3": "p_permutation_top3",
    }
    tables = [hit_table(proba, kind, counts) for kind in names]
    for kind, table in zip(names, tables, strict=True):
        hits = int(table[np.arange(y.size), y].sum())
        out[kind] = hits / y.size if y.size else float("nan")
        if kind == "score":
            out["n_correct"] = hits
            out["p_binomial"] = binomial_p(hits, y.size, CHANCE_LEVELS["score"])
    # the same permutations for the three metrics (common random numbers)
    p_values = label_permutation_ps(tables, y, n_permutations=n_permutations, seed=seed)
    out.update({p_name: float(p) for p_name, p in zip(names.values(), p_values, strict=True)})
    return out


# ---------------------------------------------------------------- group level
def sign_flip_p(diffs: np.ndarray, *, n_permutations: int = 100000, seed=0) -> float:
    """One-sided sign-flip permutation p-value that the mean of ``diffs`` is > 0.

    Under the null hypothesis each subject's difference is symmetric around
    0, so every sign pattern is equally likely. With at most
    :data:`MAX_EXACT_SIGN_FLIP` values all ``2**n`` patterns are enumerated
    (including the observed one): ``p = #{sum(s * d) >= sum(d)} / 2**n``.
    Otherwise ``n_permutations`` random patterns give
    ``(1 + #{...}) / (1 + n_permutations)``.

    Parameters
    ----------
    diffs : ndarray, shape (n_subjects,)
        Per-subject differences (score minus chance, or decoder A minus B).
    n_permutations : int
        Random sign patterns when not enumerating.
    seed : int or SeedSequence
        Seed of the random patterns.

    Returns
    -------
    float
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return float("nan")
    observed = d.sum()
    tol = _TOL * max(1.0, np.abs(d).sum())
    if n <= MAX_EXACT_SIGN_FLIP:
        count = 0
        chunk = 1 << min(n, 16)
        for start in range(0, 1 << n, chunk):
            codes = np.arange(start, start + chunk, dtype=np.int64)
            signs = 1 - 2 * ((codes[:, None] >> np.arange(n)) & 1)
            count += int(np.sum(signs @ d >= observed - tol))
        return count / 2**n
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_permutations, n))
    return float((1 + np.sum(signs @ d >= observed - tol)) / (1 + n_permutations))


def smallest_sign_flip_p(n_subjects: int, n_permutations: int = 100000) -> float:
    """Smallest one-sided p-value :func:`sign_flip_p` can return for ``n_subjects`` values.

    ``2 ** -n`` when the flips are enumerated (at most
    :data:`MAX_EXACT_SIGN_FLIP` subjects: only the observed pattern reaches
    the observed sum), else ``1 / (1 + n_permutations)``. With 6 subjects it
    is 1/64; a correction over ``m`` tests multiplies it by up to ``m``.

    Parameters
    ----------
    n_subjects : int
        Number of paired values.
    n_permutations : int
        Random sign patterns used above :data:`MAX_EXACT_SIGN_FLIP`.

    Returns
    -------
    float
        NaN for no subjects.
    """
    if n_subjects <= 0:
        return float("nan")
    if n_subjects <= MAX_EXACT_SIGN_FLIP:
        return 2.0**-n_subjects
    return 1.0 / (1 + n_permutations)


def min_subjects_for_sign_flip(n_tests: int, alpha: float = 0.05, two_sided: bool = False) -> int:
    """Fewest subjects for which ``n_tests`` Holm-corrected sign-flip tests can reach ``alpha``.

    Parameters
    ----------
    n_tests : int
        Number of tests in the correction (at least 1).
    alpha : float
        Significance level.
    two_sided : bool
        Whether each p-value is doubled (two-sided test).

    Returns
    -------
    int
        The smallest ``n`` with ``n_tests * (2 if two_sided else 1) * 2**-n <= alpha``.
    """
    factor = max(1, int(n_tests)) * (2 if two_sided else 1)
    return max(1, math.ceil(math.log2(factor / alpha)))


def wilcoxon_greater(diffs: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value that ``diffs`` are shifted above 0.

    Zero differences are split between the ranks (``zero_method="zsplit"``);
    all-zero differences give 1.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    if np.all(d == 0):
        return 1.0
    return float(stats.wilcoxon(d, alternative="greater", zero_method="zsplit").pvalue)


def bootstrap_ci(
    scores: np.ndarray, *, confidence: float = 0.95, n_resamples: int = 9999, seed=0
) -> tuple[float, float]:
    """Bootstrap confidence interval of the mean over subjects (BCa, seeded).

    Returns ``(mean, mean)`` when every score is equal and NaNs with fewer
    than two scores. When BCa is undefined for a tiny sample the percentile
    interval is returned instead.
    """
    x = np.asarray(scores, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            # BCa cannot be computed for some tiny samples: SciPy warns and
            # returns NaN; fall back to the percentile interval then.
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            res = stats.bootstrap(
                (x,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                method=method, rng=np.random.default_rng(seed),
            )  # fmt: skip
        low, high = res.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return float("nan"), float("nan")


def ttest_greater(scores: np.ndarray, chance: float) -> float:
    """One-sided one-sample t-test p-value that the mean exceeds ``chance``."""
    x = np.asarray(scores, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan")
    if np.all(x == x[0]):
        return 0.0 if x[0] > chance else 1.0
    return float(stats.ttest_1samp(x, chance, alternative="greater").pvalue)


@dataclass(frozen=True)
class GroupStats:
    """Group-level statistics of one metric over subjects.

    Attributes
    ----------
    n : int
        Number of subjects with a finite score.
    chance : float
        The metric's chance level the tests use.
    mean, median : float
        Over subjects.
    ci_low, ci_high : float
        95 % bootstrap (BCa) interval of the mean.
    p_ttest, p_wilcoxon, p_signflip : float
        One-sided p-values against ``chance``: t-test, Wilcoxon signed-rank,
        exact sign-flip permutation test.
    """

    n: int
    chance: float
    mean: float
    median: float
    ci_low: float
    ci_high: float
    p_ttest: float
    p_wilcoxon: float
    p_signflip: float

    def to_dict(self) -> dict:
        """Plain dict of the fields."""
        return asdict(self)


def group_stats(scores: np.ndarray, chance: float, *, seed=0, n_resamples: int = 9999) -> GroupStats:
    """Summarise per-subject scores of one metric against its ``chance`` level.

    Parameters
    ----------
    scores : array-like, shape (n_subjects,)
        One score per subject; NaN (failed tasks) are left out.
    chance : float
        Chance level of the metric (see :data:`CHANCE_LEVELS`).
    seed : int or SeedSequence
        Seed of the bootstrap and of random sign flips (if not exact).
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    GroupStats
    """
    x = np.asarray(scores, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return GroupStats(0, chance, nan, nan, nan, nan, nan, nan, nan)
    low, high = bootstrap_ci(x, n_resamples=n_resamples, seed=seed)
    return GroupStats(
        n=n,
        chance=chance,
        mean=float(x.mean()),
        median=float(np.median(x)),
        ci_low=low,
        ci_high=high,
        p_ttest=ttest_greater(x, chance),
        p_wilcoxon=wilcoxon_greater(x - chance),
        p_signflip=sign_flip_p(x - chance, seed=seed),
    )


# ---------------------------------------------------------------- comparisons
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


def paired_scores(results: pd.DataFrame, decoders: Sequence[str], metric: str = "score") -> pd.DataFrame:
    """Subjects x decoders table of ``metric`` (NaN where a task failed)."""
    wide = results.pivot_table(index="subject", columns="pipeline", values=metric, aggfunc="mean")
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


# ---------------------------------------------------------------- time courses
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
