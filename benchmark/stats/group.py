"""Group statistics over subjects: bootstrap interval, t, Wilcoxon and sign-flip tests against chance."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from benchmark.stats.chance import MAX_EXACT_SIGN_FLIP, TOL


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
    tol = TOL * max(1.0, np.abs(d).sum())
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
