"""The scoring protocol against hand-computed cases."""

import numpy as np
import pytest
from scipy import stats

from benchmark import scoring


def test_accuracy_hand_computed():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]])
    y = np.array([0, 1, 2, 2])
    assert scoring.accuracy(proba, y) == pytest.approx(0.75)


def test_top_k_hand_computed():
    proba = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    y = np.array([2, 0, 3])
    # trial 0: top-2 {0, 1} misses 2; trial 1: top-2 {3, 2} misses 0; top-3 of trial 0 has 2
    assert scoring.top_k_accuracy(proba, y, k=2) == 0.0
    assert scoring.top_k_accuracy(proba, y, k=3) == pytest.approx(1 / 3)


def test_balanced_assignment_hand_computed():
    # Argmax says class 0 for all three trials; with one trial per class the
    # best joint assignment (log-prob sum) is trial0->1, trial1->0, trial2->2:
    # log(.5)+log(.6)+log(.3) > any other permutation.
    proba = np.array([[0.5, 0.5, 0.0], [0.6, 0.2, 0.2], [0.4, 0.3, 0.3]])
    assigned = scoring.balanced_assignment(proba, np.array([1, 1, 1]))
    perms = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    logp = np.log(np.clip(proba, 1e-12, None))
    best = max(perms, key=lambda p: sum(logp[i, c] for i, c in enumerate(p)))
    assert tuple(assigned) == best == (1, 0, 2)
    y = np.array([1, 0, 0])
    assert scoring.balanced_assignment_accuracy(proba, y, np.array([1, 1, 1])) == pytest.approx(2 / 3)


def test_balanced_assignment_respects_counts():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=10)
    counts = np.array([4, 3, 2, 1])
    assigned = scoring.balanced_assignment(proba, counts)
    np.testing.assert_array_equal(np.bincount(assigned, minlength=4), counts)


def test_balanced_assignment_rejects_bad_counts():
    with pytest.raises(ValueError, match="summing to the number of trials"):
        scoring.balanced_assignment(np.full((3, 2), 0.5), np.array([1, 1]))


def test_accuracy_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="n_trials=2"):
        scoring.accuracy(np.full((3, 2), 0.5), np.array([0, 1]))


def test_localizer_splits_frozen_and_stratified():
    y = np.repeat(np.arange(10), 6)
    a = scoring.localizer_splits(y, subject="sub-02", seed=0)
    b = scoring.localizer_splits(y, subject="sub-02", seed=0)
    c = scoring.localizer_splits(y, subject="sub-05", seed=0)
    assert all(np.array_equal(t1, t2) for (_, t1), (_, t2) in zip(a, b, strict=True))
    assert not all(np.array_equal(t1, t2) for (_, t1), (_, t2) in zip(a, c, strict=True))
    for train, test in a:
        assert set(np.bincount(y[test], minlength=10)) <= {1, 2}
        assert len(np.intersect1d(train, test)) == 0


def test_summarize_hand_computed():
    scores = np.array([0.10, 0.15, 0.20, 0.25])
    summary = scoring.summarize(scores, 0.10)
    mean, sd = 0.175, np.std(scores, ddof=1)
    t = (mean - 0.10) / (sd / 2)
    assert summary.mean == pytest.approx(mean)
    assert summary.p_ttest == pytest.approx(stats.t.sf(t, 3))
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert (summary.ci_low, summary.ci_high) == pytest.approx((mean - half, mean + half))
    # one-sided direction: scores below chance give a large p
    assert scoring.summarize(0.2 - scores, 0.10).p_ttest > 0.5


def test_summarize_skips_failed_subjects():
    summary = scoring.summarize(np.array([0.2, np.nan, 0.3]), 0.1)
    assert summary.n == 2
    assert summary.mean == pytest.approx(0.25)


def test_summarize_identical_scores_needs_no_t_test():
    """Every subject exactly at chance (3/30, 4/40, 5/50): scipy would warn of precision loss."""
    from benchmark.scoring import summarize

    got = summarize(np.array([3 / 30, 4 / 40, 5 / 50]), 0.1)
    assert got.p_ttest == 1.0 and got.ci_low == got.ci_high == got.mean
    assert summarize(np.array([0.2, 0.2, 0.2]), 0.1).p_ttest == 0.0
