"""``decoders._scan.ImagineScan``: the one localizer-window -> imagery scan of the decoders."""

import numpy as np
import pytest
from pyriemann.classification import MDM
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline

from decoders._scan import ImagineScan
from decoders._spatial import BatchCovariances
from decoders._time import WindowMean
from tests.test_contract import IMG_TIMES, LOC_TIMES, SFREQ, make_subject

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
    mean = ImagineScan(lda(), window_input="mean", windows=((0.15, 0.25),), **TIMES).fit(X, y)
    top = ImagineScan(lda(), window_input="mean", windows=((0.15, 0.25),), pooling="max", **TIMES).fit(X, y)
    p_mean, p_max = mean.predict_proba_imagine(X_img), top.predict_proba_imagine(X_img)
    for proba in (p_mean, p_max):
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not np.allclose(p_mean, p_max)
    with pytest.raises(ValueError, match=r"pooling must be one of \['max', 'mean'\]"):
        ImagineScan(lda(), pooling="median", **TIMES).fit(X, y)


def test_time_course_only_for_mean_input(subject):
    X, y, X_img, _ = subject
    mean = ImagineScan(lda(), window_input="mean", windows=((0.15, 0.25),), **TIMES).fit(X, y)
    assert mean.imagine_time_course(X_img).shape == (len(X_img), len(IMG_TIMES), 10)
    windowed = ImagineScan(make_pipeline(WindowMean(), lda()), **TIMES)
    assert not hasattr(windowed, "imagine_time_course")
