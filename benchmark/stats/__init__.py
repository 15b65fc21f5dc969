"""Statistics of the benchmark: pure functions on scores and probabilities, one module per level.

Per subject (:mod:`benchmark.stats.subject`)
    Top-1, balanced-assignment and top-3 accuracy come from
    :mod:`benchmark.scoring`; here: the exact binomial p-value of the number
    of correct trials against chance (:func:`binomial_p`) and a label
    permutation p-value (:func:`label_permutation_p`) that permutes the true
    labels among the subject's trials. The permutation keeps the class counts,
    so the balanced assignment (which depends on the counts only) is
    unchanged by it and the test is exact for every metric here.
Group, over subjects (:mod:`benchmark.stats.group`)
    Mean, median, a 95 % bootstrap interval (:func:`scipy.stats.bootstrap`,
    BCa, seeded), a one-sided t-test, a one-sided Wilcoxon signed-rank test and
    an exact sign-flip permutation test against the metric's own chance level
    (:data:`CHANCE_LEVELS`: 0.10 for top-1 and balanced-assignment accuracy,
    0.30 for top-3).
Decoder comparisons (:mod:`benchmark.stats.comparison`)
    Paired sign-flip permutation tests on per-subject scores, Holm-corrected
    (:func:`holm`); the decoders whose difference from the best is not
    significant after correction form the "tied with the best" group. The
    test is the one of :func:`moabb.analysis.meta_analysis.compute_pvals_perm`
    (``tests/test_stats.py`` checks they agree), computed here because
    importing :mod:`moabb` takes 5-15 s and its exact branch stops at 13
    subjects (the real data has 15 train subjects).
Time courses (:mod:`benchmark.stats.timecourse`)
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

from benchmark.stats.chance import CHANCE_LEVELS, MAX_EXACT_SIGN_FLIP, MAX_EXACT_TRIALS, derive_seed
from benchmark.stats.comparison import Comparisons, compare_decoders, holm, paired_scores
from benchmark.stats.group import (
    GroupStats,
    bootstrap_ci,
    group_stats,
    min_subjects_for_sign_flip,
    sign_flip_p,
    smallest_sign_flip_p,
    ttest_greater,
    wilcoxon_greater,
)
from benchmark.stats.subject import (
    binomial_p,
    hit_table,
    label_permutation_p,
    label_permutation_ps,
    subject_stats,
)
from benchmark.stats.timecourse import Cluster, cluster_test, true_class_evidence

__all__ = [
    "CHANCE_LEVELS", "MAX_EXACT_SIGN_FLIP", "MAX_EXACT_TRIALS", "derive_seed",
    "Comparisons", "compare_decoders", "paired_scores",
    "GroupStats", "bootstrap_ci", "group_stats", "holm", "min_subjects_for_sign_flip", "sign_flip_p",
    "smallest_sign_flip_p", "ttest_greater", "wilcoxon_greater",
    "binomial_p", "hit_table", "label_permutation_p", "label_permutation_ps", "subject_stats",
    "Cluster", "cluster_test", "true_class_evidence",
]  # fmt: skip
