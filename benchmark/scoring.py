"""The scoring protocol shared by every decoder: pure functions on arrays.

Per subject: top-1 accuracy, balanced-assignment accuracy (each class gets
exactly as many imagine trials as the subject had, found by the Hungarian
algorithm on the log-probabilities) and top-3 accuracy. Localizer accuracy
comes from stratified folds frozen per subject and shared by all decoders.
Group level: mean over subjects, a 95 % t confidence interval and one-sided
tests against chance.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.model_selection import StratifiedKFold

from benchmark.assignment import balanced_assignment as shared_balanced_assignment

_EPS = 1e-12


def _check_proba(proba: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y, dtype=int)
    if proba.ndim != 2 or proba.shape[0] != y.shape[0]:
        raise ValueError(
            f"proba must have shape (n_trials, n_classes) with n_trials={y.shape[0]}, got {proba.shape}."
        )
    if y.size and (y.min() < 0 or y.max() >= proba.shape[1]):
        raise ValueError(f"class indices must lie in 0..{proba.shape[1] - 1}, got {y.min()}..{y.max()}.")
    return proba, y


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    """Fraction of trials whose most probable class is the true one.

    Parameters
    ----------
    proba : ndarray, shape (n_trials, n_classes)
        Class probabilities.
    y : ndarray of int, shape (n_trials,)
        True class indices.

    Returns
    -------
    float
    """
    proba, y = _check_proba(proba, y)
    return float(np.mean(proba.argmax(axis=1) == y))


def top_k_accuracy(proba: np.ndarray, y: np.ndarray, k: int = 3) -> float:
    """Fraction of trials whose true class is among the ``k`` most probable.

    Ties are broken by class order (a stable sort), so the result does not
    depend on chance.
    """
    proba, y = _check_proba(proba, y)
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return float(np.mean((top == y[:, None]).any(axis=1)))


def balanced_assignment(proba: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Assign trials to classes so that class ``c`` gets exactly ``counts[c]``.

    Maximises the summed log-probability of the assignment with the Hungarian
    algorithm: :func:`benchmark.assignment.balanced_assignment`, the one
    implementation the decoders use too.

    Parameters
    ----------
    proba : ndarray, shape (n_trials, n_classes)
        Class probabilities.
    counts : ndarray of int, shape (n_classes,)
        Number of trials of each class; must sum to ``n_trials``.

    Returns
    -------
    ndarray of int, shape (n_trials,)
        Assigned class index of each trial.
    """
    proba = np.asarray(proba, dtype=float)
    counts = np.asarray(counts, dtype=int)
    if counts.shape != (proba.shape[1],) or counts.sum() != proba.shape[0] or (counts < 0).any():
        raise ValueError(
            f"counts must give one non-negative count per class ({proba.shape[1]}) summing to "
            f"the number of trials ({proba.shape[0]}), got {counts.tolist()}."
        )
    return shared_balanced_assignment(np.log(np.clip(proba, _EPS, None)), counts)


def balanced_assignment_accuracy(proba: np.ndarray, y: np.ndarray, counts: np.ndarray) -> float:
    """Accuracy of :func:`balanced_assignment` against the true classes."""
    proba, y = _check_proba(proba, y)
    return float(np.mean(balanced_assignment(proba, counts) == y))


def localizer_splits(
    y: np.ndarray, *, subject: str, seed: int, n_splits: int = 5
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of one subject's localizer, frozen by (subject, seed).

    Every decoder gets the same folds for the same subject and seed.

    Parameters
    ----------
    y : array-like, shape (n_epochs,)
        Localizer labels.
    subject : str
        Subject name; mixed into the seed so subjects get different folds.
    seed : int
        Run seed.
    n_splits : int
        Number of folds.

    Returns
    -------
    list of (train_indices, test_indices)
    """
    subject_seed = (zlib.crc32(subject.encode()) + int(seed)) % (2**32)
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=subject_seed)
    y = np.asarray(y)
    return list(cv.split(np.zeros((len(y), 1)), y))


@dataclass(frozen=True)
class GroupSummary:
    """Group-level statistics of one metric over subjects.

    Attributes
    ----------
    n : int
        Number of subjects.
    mean : float
        Mean over subjects.
    ci_low, ci_high : float
        95 % confidence interval of the mean (Student t).
    p_ttest : float
        One-sided one-sample t-test p-value, mean > chance.
    p_wilcoxon : float
        One-sided Wilcoxon signed-rank p-value, median > chance.
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    p_ttest: float
    p_wilcoxon: float


def summarize(scores: np.ndarray, chance: float) -> GroupSummary:
    """Summarise per-subject scores against ``chance``.

    NaN scores (failed tasks) are left out; with fewer than two subjects the
    interval and p-values are NaN.
    """
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    n = scores.size
    if n == 0:
        return GroupSummary(0, np.nan, np.nan, np.nan, np.nan, np.nan)
    mean = float(scores.mean())
    if n < 2:
        return GroupSummary(n, mean, np.nan, np.nan, np.nan, np.nan)
    sem = stats.sem(scores)
    if sem == 0 or np.ptp(scores) == 0:  # identical scores (e.g. every subject at 3/30, 4/40): no t-test
        mean = float(scores[0])  # not the rounded sum's 0.10000000000000002
        low = high = mean
        p_t = 0.0 if mean > chance else 1.0
    else:
        low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sem)
        p_t = float(stats.ttest_1samp(scores, chance, alternative="greater").pvalue)
    diffs = scores - chance
    if np.all(diffs == 0):
        p_w = 1.0
    else:
        p_w = float(stats.wilcoxon(diffs, alternative="greater", zero_method="zsplit").pvalue)
    return GroupSummary(n, mean, float(low), float(high), p_t, p_w)


def task_scores(proba: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Every per-task score of one subject's imagine probabilities against its true classes.

    Parameters
    ----------
    proba : ndarray, shape (n_trials, n_classes)
        Class probabilities, columns in the harness's class order.
    y : ndarray of int, shape (n_trials,)
        True class indices.

    Returns
    -------
    dict
        ``imagine_accuracy`` (top-1 accuracy), ``balanced_accuracy`` (the subject's
        class counts assigned by :func:`balanced_assignment`) and ``top3``.
    """
    proba, y = _check_proba(proba, y)
    counts = np.bincount(y, minlength=proba.shape[1])
    return {
        "imagine_accuracy": accuracy(proba, y),
        "balanced_accuracy": balanced_assignment_accuracy(proba, y, counts),
        "top3": top_k_accuracy(proba, y, k=3),
    }
