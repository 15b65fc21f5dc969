"""Tests of the batched, time-resolved shrinkage LDA (``decoders.toolkit.lda``).

Every result is checked against scikit-learn's
``LinearDiscriminantAnalysis(solver='lsqr')`` fitted separately at single time
points, or against MNE's ``SlidingEstimator`` + ``cross_val_multiscore``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from decoders.toolkit.lda import (
    cross_val_accuracy_over_time,
    decision_function_batched,
    fit_lda_batched,
    generalization_decision,
)

N_EPOCHS, N_FEATURES, N_TIMES, N_CLASSES = 84, 10, 5, 4
TIME_POINTS = (0, 2, 4)  # where results are compared with scikit-learn


def _fit_per_time(X, y, scale=True, shrinkage="auto"):
    """The batched LDA, optionally on data standardised per time point (StandardScaler at each time).

    Returns ``(coef, decision)`` with ``decision(Z) -> (n_epochs, n_times, n_classes)``.
    """
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def prepare(Z):
        return (Z - mean) / std if scale else Z

    coef, intercept = fit_lda_batched(prepare(X), y, shrinkage=shrinkage)
    return coef, lambda Z: decision_function_batched(prepare(Z), coef, intercept)


RTOL = 1e-9


def _make_data(
    *,
    rank: int | None = None,
    n_epochs: int = N_EPOCHS,
    n_features: int = N_FEATURES,
    n_times: int = N_TIMES,
    n_classes: int = N_CLASSES,
    unit: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Epochs with a class signal; ``rank`` < n_features mixes fewer sources."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n_epochs) % n_classes)
    n_sources = n_features if rank is None else rank
    sources = rng.normal(size=(n_epochs, n_sources, n_times))
    sources += 0.8 * rng.normal(size=(n_classes, n_sources, 1))[y]
    if rank is None:
        X = sources
    else:
        X = rng.normal(size=(n_features, n_sources)) @ sources
    # features on different scales, and an offset, like MEG channels
    X = X * rng.uniform(0.5, 3.0, size=(1, n_features, 1)) + rng.normal(size=(1, n_features, 1))
    return X * unit, y


def _sklearn_lda(X2d: np.ndarray, y: np.ndarray, shrinkage) -> LinearDiscriminantAnalysis:
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage).fit(X2d, y)


def _assert_close(actual: np.ndarray, desired: np.ndarray, what: str) -> None:
    """Relative closeness, scaled by the largest magnitude of ``desired``."""
    atol = RTOL * np.abs(desired).max()
    np.testing.assert_allclose(actual, desired, rtol=RTOL, atol=atol, err_msg=what)


# ----------------------------------------------------------------------------
# fit_lda_batched / decision_function_batched against scikit-learn
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("shrinkage", ["auto", 0.3, 1.0])
@pytest.mark.parametrize("rank", [None, 4], ids=["full-rank", "rank-deficient"])
def test_fit_matches_sklearn_lda(shrinkage, rank):
    X, y = _make_data(rank=rank)
    coef, intercept = fit_lda_batched(X, y, shrinkage=shrinkage)
    assert coef.shape == (N_TIMES, N_CLASSES, N_FEATURES)
    assert intercept.shape == (N_TIMES, N_CLASSES)
    decision = decision_function_batched(X, coef, intercept)
    assert decision.shape == (N_EPOCHS, N_TIMES, N_CLASSES)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, shrinkage)
        _assert_close(coef[t], lda.coef_, f"coef at time {t}")
        _assert_close(intercept[t], lda.intercept_, f"intercept at time {t}")
        _assert_close(decision[:, t], lda.decision_function(X[:, :, t]), f"decision at time {t}")


@pytest.mark.parametrize("rank", [None, 4], ids=["full-rank", "rank-deficient"])
def test_fit_without_shrinkage_matches_sklearn_lstsq(rank):
    """No shrinkage: a singular covariance gets sklearn's minimum-norm solution."""
    X, y = _make_data(rank=rank)
    coef, intercept = fit_lda_batched(X, y, shrinkage=0.0)
    decision = decision_function_batched(X, coef, intercept)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, 0.0)
        _assert_close(coef[t], lda.coef_, f"coef at time {t}")
        _assert_close(intercept[t], lda.intercept_, f"intercept at time {t}")
        _assert_close(decision[:, t], lda.decision_function(X[:, :, t]), f"decision at time {t}")


def test_fit_at_meg_scale():
    """Tesla-sized values (1e-12) on rank-deficient data still match."""
    X, y = _make_data(rank=6, unit=1e-12)
    coef, intercept = fit_lda_batched(X, y)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, "auto")
        _assert_close(coef[t], lda.coef_, f"coef at time {t}")
        _assert_close(intercept[t], lda.intercept_, f"intercept at time {t}")


@pytest.mark.parametrize("scale", [True, False])
def test_constant_feature_is_handled_like_sklearn(scale):
    """A flat channel gets a unit scale in sklearn's Ledoit-Wolf; same here.

    (Unscaled, this is only comparable at unit scale: on Tesla-sized data a
    flat channel's unit variance dwarfs the others and sklearn's ``lstsq``
    then truncates every other direction as numerically zero.)
    """
    X, y = _make_data(rank=6)
    X[:, 3] = 2.0
    coef, decide = _fit_per_time(X, y, scale)
    decision = decide(X)
    for t in TIME_POINTS:
        steps = [StandardScaler()] if scale else []
        pipe = make_pipeline(*steps, LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
        pipe.fit(X[:, :, t], y)
        _assert_close(coef[t], pipe[-1].coef_, f"coef at time {t}")
        _assert_close(decision[:, t], pipe.decision_function(X[:, :, t]), f"decision at time {t}")


def test_unbalanced_classes_use_frequency_priors():
    X, y = _make_data(n_epochs=90)
    y = y.copy()
    y[:30] = 0  # class 0 over-represented
    coef, intercept = fit_lda_batched(X, y)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, "auto")
        _assert_close(intercept[t], lda.intercept_, f"intercept at time {t}")
        _assert_close(coef[t], lda.coef_, f"coef at time {t}")


def test_more_epochs_per_class_than_features():
    """Covers the feature-space (rather than epoch-space) Gram branch."""
    X, y = _make_data(n_features=5, n_classes=3, n_epochs=60)
    coef, intercept = fit_lda_batched(X, y)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, "auto")
        _assert_close(coef[t], lda.coef_, f"coef at time {t}")


def test_two_classes_match_sklearn_binary_decision():
    X, y = _make_data(n_classes=2)
    coef, intercept = fit_lda_batched(X, y)
    decision = decision_function_batched(X, coef, intercept)
    for t in TIME_POINTS:
        lda = _sklearn_lda(X[:, :, t], y, "auto")
        _assert_close(decision[:, t, 1] - decision[:, t, 0], lda.decision_function(X[:, :, t]), "binary")


def test_string_labels_and_explicit_class_order():
    X, y = _make_data()
    names = np.array(["zebra", "apple", "mango", "kiwi"])
    labels = names[y]
    coef, intercept = fit_lda_batched(X, labels, classes=names)
    ref_coef, ref_intercept = fit_lda_batched(X, y)  # classes 0..3 == names order
    _assert_close(coef, ref_coef, "coef with explicit class order")
    _assert_close(intercept, ref_intercept, "intercept with explicit class order")


def test_float32_input_is_computed_in_float64():
    X, y = _make_data()
    coef32, intercept32 = fit_lda_batched(X.astype(np.float32), y)
    coef64, intercept64 = fit_lda_batched(X.astype(np.float32).astype(np.float64), y)
    assert coef32.dtype == np.float64
    np.testing.assert_array_equal(coef32, coef64)
    np.testing.assert_array_equal(intercept32, intercept64)


# ----------------------------------------------------------------------------
# the batched LDA against StandardScaler + LDA per time point
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("rank", [None, 4], ids=["full-rank", "rank-deficient"])
def test_batched_lda_matches_pipeline_per_time_point(scale, rank):
    X, y = _make_data(rank=rank)
    X_test, _ = _make_data(rank=rank, seed=1, n_epochs=20)
    _, decide = _fit_per_time(X, y, scale)
    decision = decide(X_test)
    proba = softmax(decision, axis=-1)
    assert decision.shape == (20, N_TIMES, N_CLASSES)
    for t in TIME_POINTS:
        steps = [StandardScaler()] if scale else []
        lda = make_pipeline(*steps, LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
        lda.fit(X[:, :, t], y)
        _assert_close(decision[:, t], lda.decision_function(X_test[:, :, t]), f"decision at {t}")
        np.testing.assert_allclose(proba[:, t], lda.predict_proba(X_test[:, :, t]), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(np.unique(y)[decision[:, t].argmax(1)], lda.predict(X_test[:, :, t]))


def test_scaling_does_not_change_auto_shrinkage_probabilities():
    """'auto' standardises each class, so a global rescaling cancels out."""
    X, y = _make_data(rank=4, unit=1e-12)
    scaled = _fit_per_time(X, y, scale=True)[1](X)
    unscaled = _fit_per_time(X, y, scale=False)[1](X)
    np.testing.assert_allclose(softmax(scaled, axis=-1), softmax(unscaled, axis=-1), rtol=0, atol=1e-10)
    shift = scaled - unscaled
    _assert_close(shift, np.repeat(shift[..., :1], N_CLASSES, axis=-1), "class-independent shift")


def test_two_class_probabilities_match_sklearn():
    X, y = _make_data(n_classes=2)
    proba = softmax(_fit_per_time(X, y)[1](X), axis=-1)
    for t in TIME_POINTS:
        pipe = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
        ref = pipe.fit(X[:, :, t], y).predict_proba(X[:, :, t])
        np.testing.assert_allclose(proba[:, t], ref, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------
# cross-validation against SlidingEstimator + cross_val_multiscore
# ----------------------------------------------------------------------------
def _mne_cv_scores(X, y, cv, *, shrinkage="auto", scale=True):
    from mne.decoding import SlidingEstimator, cross_val_multiscore

    steps = [StandardScaler()] if scale else []
    pipe = make_pipeline(*steps, LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage))
    sliding = SlidingEstimator(pipe, scoring="accuracy", n_jobs=1, verbose=False)
    return cross_val_multiscore(sliding, X, y, cv=cv, n_jobs=1, verbose=False)


@pytest.mark.parametrize(
    ("shrinkage", "scale", "rank"),
    [("auto", True, None), ("auto", True, 4), ("auto", False, 4), (0.5, True, None), (0.5, False, 4)],
)
def test_cross_val_accuracy_matches_sliding_estimator(shrinkage, scale, rank):
    X, y = _make_data(rank=rank, n_times=8, n_epochs=100)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_accuracy_over_time(X, y, cv, shrinkage=shrinkage, scale=scale)
    expected = _mne_cv_scores(X, y, cv, shrinkage=shrinkage, scale=scale)
    assert scores.shape == (5, 8)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)


def test_cross_val_with_index_pairs_and_a_class_missing_from_a_fold():
    """An iterable of splits works; a fold without a class behaves like sklearn."""
    X, y = _make_data(n_times=4, n_epochs=80)
    splits = list(KFold(4).split(X))
    train, test = splits[0]
    splits[0] = (train[y[train] != 3], test)  # class 3 absent from training
    scores = cross_val_accuracy_over_time(X, y, splits)
    expected = _mne_cv_scores(X, y, splits)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)


def test_cross_val_with_integer_cv_is_stratified():
    X, y = _make_data(n_times=3)
    scores = cross_val_accuracy_over_time(X, y, 3)
    np.testing.assert_allclose(scores, _mne_cv_scores(X, y, StratifiedKFold(3)), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------
# temporal generalisation
# ----------------------------------------------------------------------------
def test_generalization_diagonal_equals_time_resolved_decision():
    X, y = _make_data()
    coef, intercept = fit_lda_batched(X, y)
    gen = generalization_decision(X, coef, intercept)
    assert gen.shape == (N_EPOCHS, N_TIMES, N_TIMES, N_CLASSES)
    diagonal = np.diagonal(gen, axis1=1, axis2=2).transpose(0, 2, 1)
    _assert_close(diagonal, decision_function_batched(X, coef, intercept), "diagonal")


def test_generalization_to_other_test_times_and_float32_output():
    X, y = _make_data()
    coef, intercept = fit_lda_batched(X, y)
    X_test, _ = _make_data(n_times=7, n_epochs=9, seed=3)
    gen = generalization_decision(X_test, coef, intercept, dtype=np.float32)
    assert gen.shape == (9, N_TIMES, 7, N_CLASSES)
    assert gen.dtype == np.float32
    for i, j in [(0, 0), (1, 6), (4, 3)]:
        expected = X_test[:, :, j] @ coef[i].T + intercept[i]
        np.testing.assert_allclose(gen[:, i, j], expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


# ----------------------------------------------------------------------------
# purity and input validation
# ----------------------------------------------------------------------------
def test_inputs_are_not_modified():
    X, y = _make_data()
    X_before, y_before = X.copy(), y.copy()
    coef, intercept = fit_lda_batched(X, y)
    coef_before, intercept_before = coef.copy(), intercept.copy()
    decision_function_batched(X, coef, intercept)
    generalization_decision(X, coef, intercept)
    cross_val_accuracy_over_time(X, y, StratifiedKFold(3))
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(coef, coef_before)
    np.testing.assert_array_equal(intercept, intercept_before)


def _one_per_class(y: np.ndarray) -> np.ndarray:
    return np.array([np.flatnonzero(y == label)[0] for label in np.unique(y)])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (X[:, :, 0], y), "3-D array"),
        (lambda X, y: (X, y[:-1]), "must match"),
        (lambda X, y: (X, np.zeros_like(y)), "at least 2 classes"),
        (lambda X, y: (np.where(np.arange(X.shape[2]) == 1, np.nan, X), y), "NaN"),
        (lambda X, y: (X, y[:, None]), "1-D array of labels"),
        (lambda X, y: (X[_one_per_class(y)], y[_one_per_class(y)]), "larger than the number of classes"),
    ],
    ids=["2-D X", "length mismatch", "one class", "NaN", "2-D y", "too few epochs"],
)
def test_bad_input_raises_clear_errors(change, message):
    X, y = _make_data()
    X_bad, y_bad = change(X, y)
    with pytest.raises(ValueError, match=message):
        fit_lda_batched(X_bad, y_bad)
    with pytest.raises(ValueError, match=message):
        cross_val_accuracy_over_time(X_bad, y_bad, StratifiedKFold(2))


@pytest.mark.parametrize("shrinkage", ["oas", 1.5, -0.1, True, None])
def test_bad_shrinkage_raises(shrinkage):
    X, y = _make_data()
    with pytest.raises(ValueError, match="shrinkage must be 'auto' or a float in"):
        fit_lda_batched(X, y, shrinkage=shrinkage)


def test_classes_argument_is_checked():
    X, y = _make_data()
    with pytest.raises(ValueError, match="not in classes"):
        fit_lda_batched(X, y, classes=np.arange(N_CLASSES - 1))
    with pytest.raises(ValueError, match="have no epochs in y"):
        fit_lda_batched(X, y, classes=np.arange(N_CLASSES + 1))


@pytest.mark.parametrize(
    "split",
    [(np.arange(10), np.array([84, 85])), (np.arange(10), np.array([], dtype=int)), (np.arange(10), [0.5])],
    ids=["out of range", "empty", "float indices"],
)
def test_bad_cv_indices_raise(split):
    X, y = _make_data()
    with pytest.raises(ValueError, match="CV split 0"):
        cross_val_accuracy_over_time(X, y, [split])


def test_model_shape_mismatch_raises():
    X, y = _make_data()
    coef, intercept = fit_lda_batched(X, y)
    with pytest.raises(ValueError, match="to match coef"):
        decision_function_batched(X[:, :, :-1], coef, intercept)
    with pytest.raises(ValueError, match="features but coef"):
        generalization_decision(X[:, :-1], coef, intercept)
    with pytest.raises(ValueError, match="intercept must have shape"):
        decision_function_batched(X, coef, intercept[:, :-1])


def test_solve_falls_back_to_least_squares_when_one_matrix_is_not_positive_definite():
    """A Cholesky failure at one time point leaves every matrix intact for the pseudo-inverse route."""
    from decoders.toolkit.lda import _solve_batched

    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 40, 6))
    sigma = A.transpose(0, 2, 1) @ A / 40
    rhs = rng.standard_normal((3, 6, 2))
    expected = np.linalg.solve(sigma, rhs)
    np.testing.assert_allclose(_solve_batched(sigma.copy(), rhs, singular=False), expected, rtol=1e-10)
    # indefinite with a positive diagonal: posv fails at the second time point
    sigma[1, 0, 1] = sigma[1, 1, 0] = 10 * np.sqrt(sigma[1, 0, 0] * sigma[1, 1, 1])
    expected = np.linalg.pinv(sigma, hermitian=True) @ rhs
    np.testing.assert_allclose(_solve_batched(sigma.copy(), rhs, singular=False), expected, rtol=1e-10)
