"""``decoders.toolkit.scan.ImagineScan``: the one localizer-window -> imagery scan of the decoders."""

import numpy as np
import pytest
from pyriemann.classification import MDM
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline

from decoders.toolkit.scan import ImagineScan
from decoders.toolkit.spatial import BatchCovariances
from decoders.toolkit.times import WindowMean
from tests.synthetic import IMG_TIMES, LOC_TIMES, SFREQ, make_subject

TIMES = dict(sfreq=SFREQ, localizer_tmin=float(LOC_TIMES[0]), imagine_tmin=float(IMG_TIMES[0]))


def lda():
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")


@pytest.fixture(scope="module")
def subject():
    return make_subject(3, n_per_class=8, signal=1.5)


def test_method_is_checked_at_fit_with_the_fix_in_the_message(subject):
    X, y, _, _ = subject
    scan = ImagineScan(make_pipeline(BatchCovariances(), MDM()), **TIMES)
    with pytest.raises(ValueError, match=r"Pipeline ending in MDM\) has no decision_function.*'transform'"):
        scan.fit(X, y)
    with pytest.raises(ValueError, match="method must be one of"):
        ImagineScan(lda(), method="predict", **TIMES).fit(X, y)


def test_transform_evidence_is_negated_distance(subject):
    X, y, X_img, _ = subject
    scan = ImagineScan(make_pipeline(BatchCovariances(), MDM()), method="transform", **TIMES).fit(X, y)
    evidence, centres = scan.scan_evidence(X_img)
    start = np.searchsorted(IMG_TIMES, centres[0] - (scan.length_ - 1) / (2 * SFREQ) - 1e-9)
    window = scan.transform_epochs(X_img)[:, :, start : start + scan.length_]
    np.testing.assert_allclose(evidence[:, 0], -scan.classifier_.transform(window))


def test_mean_input_is_the_window_average(subject):
    X, y, _, _ = subject
    scan = ImagineScan(lda(), window_input="mean", windows=((0.1, 0.3),), **TIMES).fit(X, y)
    start = scan.start_
    assert LOC_TIMES[start] == pytest.approx(0.1)
    reference = lda().fit(X[:, :, start : start + scan.length_].mean(axis=2), y)
    expected = reference.predict_proba(X[:, :, start : start + scan.length_].mean(axis=2))
    np.testing.assert_allclose(scan.predict_proba(X), expected, atol=1e-8)
    # the same classifier on the whole window through a pipeline gives the same result
    windowed = ImagineScan(make_pipeline(WindowMean(), lda()), windows=((0.1, 0.3),), **TIMES).fit(X, y)
    np.testing.assert_allclose(windowed.predict_proba(X), expected, atol=1e-8)


def test_peak_search_finds_the_class_signal(subject):
    X, y, _, _ = subject
    scan = ImagineScan(lda(), windows=None, window_input="mean", search=(0.0, 0.8), **TIMES).fit(X, y)
    assert abs(LOC_TIMES[scan.peak_index_] - 0.2) <= 0.05  # make_subject's pattern peaks at 0.2 s
    assert scan.cv_curve_.shape == (len(LOC_TIMES),)


def test_candidate_windows_are_compared_by_inner_cv(subject):
    X, y, _, _ = subject
    scan = ImagineScan(lda(), windows=((0.7, 0.8), (0.15, 0.25)), window_input="mean", **TIMES).fit(X, y)
    assert scan.window_ == pytest.approx((0.15, 0.25))
    assert scan.window_scores_[1] > scan.window_scores_[0]


def test_pooling_options(subject):
    X, y, X_img, y_img = subject
    probas = []
    for pooling in ("adaptive", "mean", "max"):
        scan = ImagineScan(lda(), window_input="mean", windows=((0.15, 0.25),), pooling=pooling, **TIMES)
        probas.append(scan.fit(X, y).predict_proba_imagine(X_img))
        np.testing.assert_allclose(probas[-1].sum(axis=1), 1.0)
    assert ImagineScan(lda()).pooling == "adaptive"  # the default of every scanning decoder
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert not np.allclose(probas[a], probas[b])
    with pytest.raises(ValueError, match=r"pooling must be one of \['adaptive', 'max', 'mean'\]"):
        ImagineScan(lda(), pooling="median", **TIMES).fit(X, y)


def _burst_courses(rng, n=200, n_times=501, snr=0.0):
    """Evidence courses with one 0.4 s burst of the true class at a random time per epoch (100 Hz)."""
    labels = rng.integers(0, 10, n)
    course = rng.normal(size=(n, n_times, 10))
    onsets = rng.integers(0, n_times - 40, n)
    for i in range(n):
        course[i, onsets[i] : onsets[i] + 40, labels[i]] += snr
    return course, labels


def test_adaptive_pooling_decodes_strong_bursts_and_stays_at_chance_without_them():
    from scipy import stats

    from decoders.toolkit.evidence import pooled_proba

    rng = np.random.default_rng(0)
    course, labels = _burst_courses(rng, snr=1.5)
    acc = {p: np.mean(pooled_proba(course, p, 0.01).argmax(axis=1) == labels) for p in ("adaptive", "mean")}
    assert acc["adaptive"] > acc["mean"], acc  # strong 0.4 s bursts at random times
    null, labels = _burst_courses(rng, n=2000, snr=0.0)
    hits = int(np.sum(pooled_proba(null, "adaptive", 0.01).argmax(axis=1) == labels))
    assert stats.binomtest(hits, len(labels), 0.1).pvalue > 0.001, hits


def test_channel_pca_rank_takes_the_dimensionality_from_the_data():
    from decoders.toolkit.spatial import ChannelPCA

    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(30, 12))  # 30 channels of rank 12, like tSSS data
    X = np.einsum("cr,nrt->nct", mixing, rng.normal(size=(40, 12, 50)))
    assert ChannelPCA("rank").fit(X).n_components_ == 12
    full = rng.normal(size=(40, 30, 50))
    assert ChannelPCA("rank").fit(full).n_components_ == 30
    assert ChannelPCA(5).fit(full).n_components_ == 5
    with pytest.raises(ValueError, match="'rank' or None, got 'auto'"):
        ChannelPCA("auto").fit(full)


def test_time_course_only_for_mean_input(subject):
    X, y, X_img, _ = subject
    mean = ImagineScan(lda(), window_input="mean", windows=((0.15, 0.25),), **TIMES).fit(X, y)
    assert mean.imagine_time_course(X_img).shape == (len(X_img), len(IMG_TIMES), 10)
    windowed = ImagineScan(make_pipeline(WindowMean(), lda()), **TIMES)
    assert not hasattr(windowed, "imagine_time_course")


class _RecordingLDA(LinearDiscriminantAnalysis):
    """An LDA whose fit takes ``others`` and ``memo`` and records what it got (a cross-subject step)."""

    def fit(self, X, y, others=None, memo=None):
        if memo is not None:
            memo.append((len(X), others))
        return super().fit(X, y)


def test_fit_params_reach_every_fit_of_the_steps_that_take_them(subject):
    X, y, X_img, _ = subject
    windows = ((0.05, 0.2), (0.15, 0.3))
    params = dict(windows=windows, window_input="mean", n_splits=3, random_state=0, **TIMES)
    plain = ImagineScan(lda(), **params).fit(X, y)
    memo, others = [], [("X of another subject", "its labels")]
    recording = _RecordingLDA(solver="lsqr", shrinkage="auto")
    scan = ImagineScan(recording, **params).fit(X, y, others=others, memo=memo)
    # 2 windows x 3 inner folds, then the final fit on every epoch; others handed whole, never split
    assert len(memo) == 7 and all(n < len(X) for n, _ in memo[:6]) and memo[6][0] == len(X)
    assert all(got is others for _, got in memo)
    np.testing.assert_array_equal(scan.window_scores_, plain.window_scores_)
    np.testing.assert_array_equal(scan.predict_proba_imagine(X_img), plain.predict_proba_imagine(X_img))


def test_a_fit_param_no_step_takes_is_refused(subject):
    X, y, _, _ = subject
    with pytest.raises(TypeError, match=r"got .others., which none of its steps \(preprocessor, classif"):
        ImagineScan(lda(), **TIMES).fit(X, y, others=[])
