"""Statistics against hand-computed cases (benchmark.stats)."""

import math

import numpy as np
import pandas as pd
import pytest

from benchmark import stats


# ----------------------------------------------------------------- binomial
def test_binomial_p_five_of_twenty_at_chance_tenth():
    by_hand = 1 - sum(math.comb(20, k) * 0.1**k * 0.9 ** (20 - k) for k in range(5))
    p = stats.binomial_p(5, 20, 0.1)
    assert p == pytest.approx(by_hand, rel=1e-9)
    assert p == pytest.approx(0.043, abs=5e-4)


@pytest.mark.parametrize("n, needed", [(20, 5), (30, 7), (40, 8), (50, 10)])
def test_binomial_thresholds_match_the_notes(n, needed):
    assert stats.binomial_p(needed, n, 0.1) <= 0.05 < stats.binomial_p(needed - 1, n, 0.1)


def test_binomial_p_edge_cases():
    assert stats.binomial_p(0, 10) == pytest.approx(1.0)
    assert stats.binomial_p(10, 10) == pytest.approx(1e-10)
    assert math.isnan(stats.binomial_p(0, 0))
    with pytest.raises(ValueError, match="n_correct must lie in 0..5"):
        stats.binomial_p(6, 5)


# ------------------------------------------------------- label permutation
def _onehot_table(pred, n_classes):
    table = np.zeros((len(pred), n_classes), dtype=bool)
    table[np.arange(len(pred)), pred] = True
    return table


def test_label_permutation_enumerates_tiny_case_by_hand():
    # predictions [0, 0, 1, 0], truth [0, 0, 1, 1]: 3 hits. The 6 distinct
    # arrangements of the labels 0011, 0101, 0110, 1001, 1010, 1100 give
    # 3, 1, 3, 1, 3, 1 hits: p = P(hits >= 3) = 3/6.
    table = _onehot_table([0, 0, 1, 0], 2)
    assert stats.label_permutation_p(table, np.array([0, 0, 1, 1])) == pytest.approx(0.5)


def test_label_permutation_perfect_prediction_is_one_over_arrangements():
    # labels 0,0,1,1,2: 5!/(2! 2! 1!) = 30 arrangements, only the true one has 5 hits
    y = np.array([0, 0, 1, 1, 2])
    assert stats.label_permutation_p(_onehot_table(y, 3), y) == pytest.approx(1 / 30)


def test_label_permutation_random_is_seeded_and_valid():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 3)
    table = _onehot_table(y, 10)  # perfect: no permutation reaches 30 hits
    p = stats.label_permutation_p(table, y, n_permutations=999, seed=1)
    assert p == pytest.approx(1 / 1000)
    noise = _onehot_table(rng.integers(0, 10, 30), 10)
    a = stats.label_permutation_p(noise, y, n_permutations=500, seed=3)
    assert a == stats.label_permutation_p(noise, y, n_permutations=500, seed=3)
    assert 0 < a <= 1


@pytest.mark.parametrize("y", [np.array([0, 1, 1, 2, 2, 0]), np.repeat(np.arange(10), 3)])
def test_shared_relabellings_give_each_tables_own_p(y):
    # exact enumeration (6 trials) and random relabellings (30 trials); the
    # reference is a direct count over the same relabellings
    rng = np.random.default_rng(5)
    tables = [rng.random((y.size, 10)) < q for q in (0.1, 0.3, 0.6)]
    together = stats.label_permutation_ps(tables, y, n_permutations=300, seed=7)
    alone = [stats.label_permutation_p(t, y, n_permutations=300, seed=7) for t in tables]
    np.testing.assert_array_equal(together, alone)
    if y.size > stats.MAX_EXACT_TRIALS:
        perms = np.random.default_rng(7).permuted(np.broadcast_to(y, (300, y.size)), axis=1)
        for table, p in zip(tables, together, strict=True):
            hits = table[np.arange(y.size), perms].sum(axis=1)
            observed = table[np.arange(y.size), y].sum()
            assert p == (1 + np.sum(hits >= observed)) / 301
    assert len(set(together.tolist())) > 1  # the tables differ, so do their p-values


def test_subject_stats_on_perfect_predictions():
    y = np.repeat(np.arange(10), 2)
    proba = np.full((20, 10), 0.01)
    proba[np.arange(20), y] = 0.91
    out = stats.subject_stats(proba, y, n_permutations=199, seed=0)
    assert out["imagine_accuracy"] == out["balanced_accuracy"] == out["top3"] == 1.0
    assert out["n_correct"] == 20
    assert out["p_binomial"] == pytest.approx(1e-20)
    assert out["p_permutation"] == out["p_permutation_balanced"] == pytest.approx(1 / 200)


def test_hit_table_balanced_keeps_counts():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(10), 30)
    counts = np.full(10, 3)
    table = stats.hit_table(proba, "balanced_accuracy", counts)
    assert (table.sum(axis=1) == 1).all()
    assert (table.sum(axis=0) == counts).all()
    assert (stats.hit_table(proba, "top3").sum(axis=1) == 3).all()
    with pytest.raises(ValueError, match="kind must be"):
        stats.hit_table(proba, "f1")


# ----------------------------------------------------------- group level
def test_sign_flip_enumerated_by_hand():
    # d = (.1, .2, -.05), sum .25; the 8 sign patterns give sums
    # .25 .35 -.15 -.05 .05 .15 -.35 -.25: two are >= .25, p = 2/8
    assert stats.sign_flip_p([0.1, 0.2, -0.05]) == pytest.approx(0.25)
    # all positive: only the identity reaches the observed sum
    assert stats.sign_flip_p([1, 2, 3, 4]) == pytest.approx(1 / 16)


def test_sign_flip_random_branch_is_seeded():
    d = np.random.default_rng(0).normal(0.01, 0.02, stats.MAX_EXACT_SIGN_FLIP + 5)
    p1 = stats.sign_flip_p(d, n_permutations=2000, seed=4)
    assert p1 == stats.sign_flip_p(d, n_permutations=2000, seed=4)
    assert 1 / 2001 <= p1 <= 1


def test_wilcoxon_direction_from_ranks_not_mean():
    # d = (-1, -2, -3, -4, 20): mean > 0 but the signed-rank sum W+ is 5 (rank of 20).
    # Subsets of ranks {1..5} with sum < 5: {}, {1}, {2}, {3}, {4}, {1,2}, {1,3}: 7 of 32,
    # so P(W+ >= 5) = 25/32. (MOABB's compute_pvals_wilcoxon takes the mean's sign and
    # would report 10/32 here: issue #1176.)
    assert stats.wilcoxon_greater([-1, -2, -3, -4, 20]) == pytest.approx(25 / 32)
    assert stats.wilcoxon_greater([1, 2, 3, 4, 5]) == pytest.approx(1 / 32)
    assert stats.wilcoxon_greater([0, 0, 0]) == 1.0


def test_bootstrap_ci_contains_mean_and_is_reproducible():
    scores = np.array([0.08, 0.1, 0.12, 0.15, 0.11, 0.09, 0.13, 0.14])
    low, high = stats.bootstrap_ci(scores, seed=0)
    assert low < scores.mean() < high
    assert (low, high) == stats.bootstrap_ci(scores, seed=0)
    assert stats.bootstrap_ci(np.full(5, 0.1)) == (0.1, 0.1)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([0.2]))


def test_group_stats_uses_the_metric_chance():
    scores = np.array([0.32, 0.35, 0.31, 0.4, 0.33])
    top3 = stats.group_stats(scores, stats.CHANCE_LEVELS["top3"], seed=0)
    assert stats.CHANCE_LEVELS == {"imagine_accuracy": 0.1, "balanced_accuracy": 0.1, "top3": 0.3}
    assert top3.chance == 0.3 and top3.n == 5
    assert top3.mean == pytest.approx(scores.mean()) and top3.median == pytest.approx(0.33)
    assert top3.p_signflip == pytest.approx(1 / 32)  # all five above 0.30
    assert top3.p_wilcoxon == pytest.approx(1 / 32)
    assert top3.p_ttest < 0.05
    against_tenth = stats.group_stats(scores - 0.2, 0.1, seed=0)
    assert against_tenth.p_signflip == pytest.approx(top3.p_signflip)
    empty = stats.group_stats([np.nan], 0.1)
    assert empty.n == 0 and math.isnan(empty.mean)


# ----------------------------------------------------------- comparisons
def test_holm_known_vector():
    # sorted .005 .01 .03 .04 -> x4 x3 x2 x1 = .02 .03 .06 .04 -> running max .02 .03 .06 .06
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, np.nan, 0.8]), [1.0, np.nan, 1.0])  # .8 x1 < running max 1


def test_pairwise_sign_flip_matches_hand_enumeration():
    # A - B = (.125, .25, -.0625) (exact in binary): the hand case of test_sign_flip_enumerated_by_hand
    wide = pd.DataFrame({"A": [0.5, 0.5, 0.5], "B": [0.375, 0.25, 0.5625]}, index=["s1", "s2", "s3"])
    compared = stats.compare_decoders(wide, seed=0)
    assert compared.p_greater.loc["A", "B"] == pytest.approx(2 / 8)
    assert compared.p_greater.loc["B", "A"] == pytest.approx(7 / 8)
    assert compared.p_holm.loc["A", "B"] == compared.p_holm.loc["B", "A"] == pytest.approx(0.5)
    assert compared.mean_diff.loc["A", "B"] == pytest.approx(0.3125 / 3)
    assert compared.best == "A" and compared.tied_with_best() == ["A", "B"]


def test_tied_with_best_excludes_clearly_worse_decoders():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.2, 10)
    close = base + 0.1 + np.tile([0.01, -0.01], 5) - 0.001  # mixed signs, mean 0.001 below the best
    wide = pd.DataFrame({"best": base + 0.1, "close": close, "bad": base})
    compared = stats.compare_decoders(wide, seed=0)
    assert compared.best == "best"
    assert compared.tied_with_best() == ["best", "close"]
    assert compared.tied_p["bad"] == pytest.approx(2 * 2**-10)  # Holm x2 of the exact 1/1024


def test_comparisons_leave_out_missing_scores_pair_by_pair():
    wide = pd.DataFrame(
        {"x": [0.5, 0.5, 0.5, 0.5], "y": [0.25, 0.25, 0.25, np.nan], "z": [0.0, 0.0, 0.0, 0.0]}
    )
    compared = stats.compare_decoders(wide, seed=0)
    assert compared.n_pairs.loc["x", "y"] == 3 and compared.n_pairs.loc["x", "z"] == 4
    assert compared.p_greater.loc["x", "y"] == pytest.approx(1 / 8)
    assert compared.p_greater.loc["x", "z"] == pytest.approx(1 / 16)
    results = pd.DataFrame(
        {
            "subject": ["a", "b", "a", "b"],
            "decoder": ["x", "x", "y", "y"],
            "imagine_accuracy": [0.1, 0.2, 0.3, np.nan],
        }
    )
    assert stats.paired_scores(results, ["x", "y"]).shape == (2, 2)


# ----------------------------------------------------------- time courses
def test_true_class_evidence_by_hand():
    # 2 trials, 2 times, classes_ ('b', 'a', 'c') reordered to ('a', 'b', 'c')
    course = np.array(
        [
            [[1.0, 4.0, 0.0], [2.0, 2.0, 2.0]],  # trial 0, true class 'a' (column 1)
            [[3.0, 0.0, 1.0], [0.0, 6.0, 0.0]],  # trial 1, true class 'c' (column 2)
        ]
    )
    curve = stats.true_class_evidence(course, np.array([0, 2]), ["b", "a", "c"], ("a", "b", "c"))
    # trial 0: t0 4 - (1+0)/2 = 3.5, t1 0; trial 1: t0 1 - (3+0)/2 = -0.5, t1 0 - 3 = -3
    np.testing.assert_allclose(curve, [1.5, -1.5])


def test_cluster_test_finds_the_effect_window():
    rng = np.random.default_rng(0)
    times = np.arange(60) / 100
    curves = rng.normal(size=(12, 60))
    curves[:, 20:35] += 2.0
    clusters = stats.cluster_test(curves, times, n_permutations=256, seed=0)
    significant = [c for c in clusters if c.p <= 0.05]
    assert len(significant) == 1
    assert 18 <= significant[0].start <= 22 and 33 <= significant[0].stop <= 37
    assert stats.cluster_test(curves[:1], times) == []


@pytest.mark.slow  # importing moabb takes 5-15 s
def test_pairwise_p_agree_with_moabb_compute_pvals_perm():
    from moabb.analysis.meta_analysis import compute_pvals_perm

    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.uniform(0, 0.3, (9, 3)), columns=["a", "b", "c"])  # <= 13: MOABB's exact branch
    ours = stats.compare_decoders(wide, seed=0).p_greater.to_numpy()
    theirs = compute_pvals_perm(wide, order=["a", "b", "c"], seed=0)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(ours[off], theirs[off])


# ----------------------------------------------------------- power limits
def test_smallest_sign_flip_p_is_reached_by_all_positive_differences():
    for n in (1, 4, 6, 9):
        assert stats.smallest_sign_flip_p(n) == 2.0**-n == stats.sign_flip_p(np.arange(1, n + 1))
    assert stats.smallest_sign_flip_p(stats.MAX_EXACT_SIGN_FLIP + 1, n_permutations=999) == 1 / 1000
    assert math.isnan(stats.smallest_sign_flip_p(0))


@pytest.mark.parametrize("n_tests, two_sided, needed", [(1, False, 5), (11, False, 8), (66, True, 12)])
def test_min_subjects_for_sign_flip(n_tests, two_sided, needed):
    # 11 comparisons with the best: 11/128 = .086 > .05, 11/256 = .043; 66 pairs two-sided: 132/4096 = .032
    assert stats.min_subjects_for_sign_flip(n_tests, 0.05, two_sided=two_sided) == needed
    factor = n_tests * (2 if two_sided else 1)
    assert factor * 2.0**-needed <= 0.05 < factor * 2.0 ** -(needed - 1)


def test_six_subjects_twelve_decoders_cannot_separate_anyone():
    # the case: 6 subjects, 12 ranked decoders, one far better on every subject
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.uniform(0.05, 0.15, (6, 12)), columns=[f"d{i:02d}" for i in range(12)])
    wide["d00"] += 0.5
    compared = stats.compare_decoders(wide, seed=0)
    assert compared.min_p_tied == pytest.approx(11 / 64)
    assert not compared.can_separate_from_best() and not compared.can_separate_pairs()
    assert min(compared.tied_p.values()) == pytest.approx(11 / 64)  # the bound is reached, never beaten
    assert len(compared.tied_with_best()) == 12
    wide15 = pd.DataFrame(rng.uniform(0.05, 0.15, (15, 12)), columns=wide.columns)
    wide15["d00"] += 0.5
    compared15 = stats.compare_decoders(wide15, seed=0)
    assert compared15.can_separate_from_best() and compared15.can_separate_pairs()
    assert compared15.tied_with_best() == ["d00"]
