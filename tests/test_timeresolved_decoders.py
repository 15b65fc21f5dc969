"""Focused tests of the time-resolved, template, transductive and null-data decoders' helpers.

The contract test (``test_contract.py``) already runs every decoder through
the harness contract; these tests check what is specific to each of them.
"""

import numpy as np
import pytest

from benchmark.assignment import balanced_assignment
from decoders.logreg_l1_null import NULL_LABEL, LogRegL1NullDecoder, draw_null_indices
from decoders.prototype_correlation import PrototypeCorrelation, correlate
from decoders.self_training import SelfTrainingDecoder
from decoders.toolkit.evidence import zscore_over_batch
from decoders.toolkit.generalization import GeneralizationEnsemble, training_time_weights
from decoders.toolkit.lda import shrinkage_lda
from decoders.toolkit.model_selection import accuracy_weights
from decoders.toolkit.scan import ImagineScan
from decoders.toolkit.spatial import ChannelPCA
from decoders.toolkit.times import time_mask
from tests.synthetic import LOC_TIMES, SFREQ

IMG_TIMES = np.arange(321) / SFREQ - 0.2  # a shorter imagine block than the challenge's, for speed
CLASSES = np.array(["apple", "bicycle", "brush", "cake", "clown", "cup", "desk", "foot", "mountain", "zebra"])
N_CHANNELS = 10


def make_data(seed: int = 0, n_per_class: int = 6, signal: float = 2.0, n_imagine: int = 20):
    """Localizer epochs with a class pattern at 0.2 s; imagery with the same pattern at 1.0 s."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(len(CLASSES), N_CHANNELS))
    y = rng.permutation(np.repeat(CLASSES, n_per_class))
    loc_course = np.exp(-0.5 * ((LOC_TIMES - 0.2) / 0.05) ** 2)
    X = rng.normal(size=(len(y), N_CHANNELS, LOC_TIMES.size))
    X += signal * patterns[np.searchsorted(CLASSES, y)][..., None] * loc_course
    y_img = np.resize(rng.permutation(CLASSES), n_imagine)
    img_course = np.exp(-0.5 * ((IMG_TIMES - 1.0) / 0.1) ** 2)
    X_img = rng.normal(size=(n_imagine, N_CHANNELS, IMG_TIMES.size))
    X_img += signal * patterns[np.searchsorted(CLASSES, y_img)][..., None] * img_course
    return X, y, X_img, y_img


KWARGS = dict(sfreq=SFREQ, localizer_tmin=-0.2, imagine_tmin=-0.2, random_state=0)


def peak_lda() -> ImagineScan:
    """``lda-peak``'s scan (:func:`decoders.toolkit.scan.peak_scan`) on the synthetic time axes."""
    scan = dict(windows=None, window_input="mean", stride=None, n_splits=5)
    return ImagineScan(shrinkage_lda(), ChannelPCA("rank"), **scan, **KWARGS)


@pytest.fixture(scope="module")
def data():
    return make_data()


# ------------------------------------------------------------ shared helpers
@pytest.mark.parametrize("n_epochs", [50, 20, 23, 7])
def test_balanced_assignment_gives_equal_counts(n_epochs):
    scores = np.random.default_rng(n_epochs).normal(size=(n_epochs, 10))
    scores[:, 3] += 5.0  # every epoch prefers class 3: the constraint must spread them
    labels = balanced_assignment(scores)
    counts = np.bincount(labels, minlength=10)
    assert counts.max() <= -(-n_epochs // 10), counts
    if n_epochs % 10 == 0:
        assert (counts == n_epochs // 10).all(), counts


def test_balanced_assignment_recovers_clear_labels():
    truth = np.repeat(np.arange(10), 3)
    scores = np.random.default_rng(0).normal(scale=0.1, size=(30, 10))
    scores[np.arange(30), truth] += 1.0
    np.testing.assert_array_equal(balanced_assignment(scores), truth)


def test_balanced_assignment_refuses_too_few_slots():
    with pytest.raises(ValueError, match="slots"):
        balanced_assignment(np.zeros((12, 10)), np.ones(10))


def test_accuracy_weights_zero_at_and_below_chance():
    curve = np.array([0.05, 0.1, 0.1, 0.2, 0.4, 0.1])
    weights = accuracy_weights(curve, chance=0.1)
    np.testing.assert_array_equal(weights[[0, 1, 2, 5]], 0.0)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[4] == pytest.approx(3 * weights[3])
    assert not accuracy_weights(np.full(5, 0.1), chance=0.1).any()


def test_training_time_weights_margin_removes_noise_level_accuracy():
    se = np.sqrt(0.1 * 0.9 / 480)
    curve = np.array([0.1 + 0.5 * se, 0.1 + 0.5 * se, 0.3, 0.1])
    weights = training_time_weights(curve, n_classes=10, n_epochs=480, margin_se=1.0)
    np.testing.assert_array_equal(weights[[0, 1, 3]], 0.0)
    assert weights[2] == pytest.approx(1.0)


def test_zscore_over_batch_uses_reference_statistics():
    values = np.random.default_rng(0).normal(loc=3.0, scale=2.0, size=(8, 30, 4))
    z = zscore_over_batch(values, (0, 1), reference=values[:, :10])
    np.testing.assert_allclose(z[:, :10].mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, :10].std(axis=(0, 1)), 1.0)


def test_time_mask_inclusive_and_errors_name_the_parameter():
    mask = time_mask(-0.2, SFREQ, 121, (0.1, 0.6), "train_window")
    assert mask.sum() == 51
    with pytest.raises(ValueError, match="scan"):
        time_mask(-0.2, SFREQ, 121, (2.0, 3.0), "scan")


def test_channel_pca_matches_zscore_then_pca(data):
    from sklearn.decomposition import PCA

    X = data[0]
    before = X.copy()
    proj = ChannelPCA(n_components=5).fit(X)
    Z = proj.transform(X)
    np.testing.assert_array_equal(X, before)
    flat = X.transpose(0, 2, 1).reshape(-1, N_CHANNELS)
    flat = (flat - flat.mean(axis=0)) / flat.std(axis=0)
    expected = PCA(5, random_state=0).fit_transform(flat)
    np.testing.assert_allclose(Z.transpose(0, 2, 1).reshape(-1, 5), expected, atol=1e-8)


# ------------------------------------------------------------ decoders
def test_sliding_ensemble_trains_one_lda_per_sample_of_its_window(data):
    X, y, X_img, _ = data
    est = GeneralizationEnsemble(train_window=(0.1, 0.6), weighting="uniform", **KWARGS).fit(X, y)
    times = LOC_TIMES[est.train_index_]
    assert times.min() == pytest.approx(0.1) and times.max() == pytest.approx(0.6)
    assert est.coef_.shape[0] == len(est.train_index_) == 51
    np.testing.assert_allclose(est.weights_, 1 / 51)
    assert est.imagine_time_course(X_img).shape == (len(X_img), IMG_TIMES.size, 10)


def test_temporal_generalization_weights_follow_accuracy(data):
    X, y, X_img, y_img = data
    est = GeneralizationEnsemble(**KWARGS).fit(X, y)
    weighted_times = LOC_TIMES[est.train_index_]
    assert weighted_times.min() > 0.0, "pre-stimulus times must get no weight"
    assert est.cv_curve_[est.train_index_].min() > 0.1, "times at or below chance must get no weight"
    assert est.weights_.sum() == pytest.approx(1.0)
    course = est.imagine_time_course(X_img)
    assert course.shape == (len(X_img), IMG_TIMES.size, 10)
    proba = est.predict_proba_imagine(X_img)
    assert np.mean(CLASSES[proba.argmax(1)] == y_img) > 0.5


def test_temporal_generalization_falls_back_to_best_time_on_noise():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, N_CHANNELS, LOC_TIMES.size))
    y = np.repeat(CLASSES, 6)
    est = GeneralizationEnsemble(margin_se=50.0, **KWARGS).fit(X, y)
    assert len(est.train_index_) == 1 and est.weights_[0] == 1.0


@pytest.mark.parametrize("n_lags", [1, 3])
def test_prototype_correlation_with_and_without_embedding(data, n_lags):
    X, y, X_img, y_img = data
    est = PrototypeCorrelation(n_lags=n_lags, n_components=None, **KWARGS).fit(X, y)
    assert est.prototypes_.shape == (10, N_CHANNELS * n_lags)
    np.testing.assert_allclose(est.prototypes_.sum(axis=0), 0.0, atol=1e-10)
    assert 0.1 <= est.peak_time_ <= 0.3
    proba = est.predict_proba_imagine(X_img)
    assert np.mean(CLASSES[proba.argmax(1)] == y_img) > 0.5


def test_correlate_is_pearson():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 7)), rng.normal(size=(3, 7))
    expected = np.corrcoef(np.vstack([a, b]))[:4, 4:]
    np.testing.assert_allclose(correlate(a, b), expected)


def test_self_training_pseudo_labels_are_balanced(data):
    X, y, X_img, y_img = data
    est = SelfTrainingDecoder(peak_lda()).fit(X, y, X_imagine=X_img)
    counts = np.unique(est.pseudo_labels_, return_counts=True)[1]
    assert len(counts) == 10 and (counts == 2).all(), counts
    assert est.n_iter_ >= 1 and est.pseudo_times_.shape == (len(X_img),)
    # works on the imagine epochs seen in fit and on others
    assert est.predict_proba_imagine(X_img).shape == (20, 10)
    other = make_data(seed=3, n_imagine=7)[2]
    assert est.predict_proba_imagine(other).shape == (7, 10)


def test_self_training_without_imagine_is_the_peak_decoder(data):
    X, y, X_img, _ = data
    plain = SelfTrainingDecoder(peak_lda()).fit(X, y)
    no_iter = SelfTrainingDecoder(peak_lda(), n_iter=0).fit(X, y, X_imagine=X_img)
    assert plain.pseudo_labels_ is None and plain.n_iter_ == 0
    np.testing.assert_allclose(plain.predict_proba_imagine(X_img), no_iter.predict_proba_imagine(X_img))
    np.testing.assert_allclose(plain.predict_proba(X), plain.base_.predict_proba(X))
    np.testing.assert_allclose(plain.predict_proba_imagine(X_img), plain.base_.predict_proba_imagine(X_img))


@pytest.mark.parametrize("base", [None, ImagineScan(shrinkage_lda(), window_input="window")])
def test_self_training_refuses_a_base_without_a_time_course(data, base):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="window_input='mean'"):
        SelfTrainingDecoder(base).fit(X, y)


def test_logreg_null_class_is_dropped(data):
    X, y, X_img, _ = data
    est = LogRegL1NullDecoder(**KWARGS).fit(X, y)
    np.testing.assert_array_equal(est.classes_, CLASSES)
    assert NULL_LABEL in est.pipeline_.classes_ and NULL_LABEL not in est.classes_
    assert est.n_null_ == len(X)
    for proba in (est.predict_proba(X), est.predict_proba_imagine(X_img)):
        assert proba.shape[1] == 10
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_null_data_come_from_the_pre_stimulus_window():
    candidates = np.flatnonzero(time_mask(-0.2, SFREQ, 121, (-0.2, -0.02), "null_window"))
    epochs, samples = draw_null_indices(candidates, 40, 1.0, random_state=0)
    assert len(epochs) == 40 and len(np.unique(epochs)) == 40
    assert (LOC_TIMES[samples] <= 0.0).all()
    with pytest.raises(ValueError, match="null_ratio"):
        draw_null_indices(candidates, 40, 0.0, random_state=0)
