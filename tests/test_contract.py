"""The contract every discovered decoder must meet (one test per decoder x check).

In the spirit of scikit-learn's ``parametrize_with_checks``, adapted to 3-D
epochs. A failure message says what a contributor has to fix.
"""

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import Decoder, TaskMemo
from benchmark.registry import discover
from benchmark.runner import pools_time_course
from benchmark.tasks import ordered_proba
from datasets.layout import CLASS_NAMES
from tests.synthetic import context, fit_params, make_induced_subject, make_induced_truth, make_subject

#: Every decoder file, MOABB's two pipeline files in decoders/ included, and the example
#: pipelines of examples/moabb/ (tests/test_moabb_pipelines.py).
SPECS = list(discover(pipelines=[Path(__file__).parents[1] / "examples" / "moabb"]).specs.values())


@pytest.fixture(scope="module")
def subject():
    return make_subject(0)


ids = [s.name for s in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_fit_returns_self_and_factory_gives_fresh_estimators(spec, subject):
    X, y, X_img, _ = subject
    first, second = spec.factory(context()), spec.factory(context())
    assert first is not second, f"{spec.module}: the factory must build a new estimator per call"
    assert isinstance(first, Decoder), (
        f"{spec.module}: the factory's estimator needs fit, predict_proba and predict_proba_imagine "
        "(benchmark.contract.Decoder)"
    )
    assert first.fit(X, y, **fit_params(spec, X_img)) is first, f"{spec.module}: fit must return self"
    with pytest.raises(NotFittedError):
        check_is_fitted(second)
    clone(first)  # get_params/set_params round trip (scikit-learn convention)


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_probabilities_valid(spec, subject):
    X, y, X_img, _ = subject
    est = spec.factory(context()).fit(X, y, **fit_params(spec, X_img))
    loc = ordered_proba(est, est.predict_proba(X[:7]), 7, spec.name)
    img = ordered_proba(est, est.predict_proba_imagine(X_img), len(X_img), spec.name)
    for proba in (loc, img):
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        assert (proba >= 0).all()


POOLING_SPECS = [s for s in SPECS if pools_time_course(s.factory(context()))]


def test_decoders_that_pool_their_time_course_are_found():
    names = {s.name for s in POOLING_SPECS}
    assert {"lda-peak", "official-example", "temporal-generalization", "self-training"} <= names
    assert not names & {"mdm", "chance", "aligned-cross-subject"}


@pytest.mark.parametrize("spec", POOLING_SPECS, ids=[s.name for s in POOLING_SPECS])
def test_pooled_time_course_is_the_imagine_probabilities(spec, subject):
    X, y, X_img, _ = subject
    est = spec.factory(context()).fit(X, y, **fit_params(spec, X_img))
    np.testing.assert_array_equal(
        est.pool_time_course(est.imagine_time_course(X_img)),
        est.predict_proba_imagine(X_img),
        err_msg=f"{spec.module}: pool_time_course(imagine_time_course(X)) != predict_proba_imagine(X)",
    )


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_inputs_not_modified(spec, subject):
    X, y, X_img, _ = (a.copy() for a in subject)
    originals = (X.copy(), y.copy(), X_img.copy())
    est = spec.factory(context()).fit(X, y, **fit_params(spec, X_img))
    est.predict_proba(X)
    est.predict_proba_imagine(X_img)
    for before, after, what in zip(originals, (X, y, X_img), ("X", "y", "X_imagine"), strict=True):
        np.testing.assert_array_equal(before, after, err_msg=f"{spec.module} modified {what} in place")


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_same_seed_same_output(spec, subject):
    X, y, X_img, _ = subject
    runs = [
        spec.factory(context(3)).fit(X, y, **fit_params(spec, X_img)).predict_proba_imagine(X_img)
        for _ in range(2)
    ]
    np.testing.assert_allclose(runs[0], runs[1], err_msg=f"{spec.module}: not deterministic for a seed")


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_fitted_decoder_pickles(spec, subject):
    X, y, X_img, _ = subject
    est = spec.factory(context()).fit(X, y, **fit_params(spec, X_img))
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.predict_proba_imagine(X_img), est.predict_proba_imagine(X_img))


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_no_state_shared_between_subjects(spec):
    """Fitting a second subject's estimator must not change the first's predictions."""
    X1, y1, Xi1, _ = make_subject(1)
    X2, y2, Xi2, _ = make_subject(2)
    est1 = spec.factory(context()).fit(X1, y1, **fit_params(spec, Xi1, seed=1))
    before = est1.predict_proba_imagine(Xi1)
    spec.factory(context()).fit(X2, y2, **fit_params(spec, Xi2, seed=2))
    np.testing.assert_allclose(est1.predict_proba_imagine(Xi1), before)


MEMO_SPECS = [s for s in SPECS if "memo" in s.uses]


@pytest.mark.parametrize("spec", MEMO_SPECS, ids=[s.name for s in MEMO_SPECS])
def test_task_memo_carries_nothing_from_one_fold_to_the_next(spec, subject):
    """A memo shared by the fits of a task changes no output (no fold leaks into another).

    Two localizer-CV-like folds fit with one shared memo must give exactly the
    outputs of the same fits with a fresh memo each: whatever the memo holds is
    the same for every fold.
    """
    X, y, X_img, _ = subject
    base = fit_params(spec, X_img)
    shared = TaskMemo()
    rng = np.random.default_rng(0)
    for fold in range(2):
        train = np.sort(rng.permutation(len(y))[: int(0.8 * len(y))])
        outputs = []
        for memo in (shared, TaskMemo()):
            est = spec.factory(context()).fit(X[train], y[train], **{**base, "memo": memo})
            outputs.append((est.predict_proba(X), est.predict_proba_imagine(X_img)))
        for with_shared, with_fresh in zip(*outputs, strict=True):
            np.testing.assert_array_equal(with_shared, with_fresh, err_msg=f"{spec.module}: fold {fold}")
    assert len(shared) > 0 and shared.hits > 0, f"{spec.module}: declares 'memo' but never reuses it"


def test_task_memo_computes_once_and_freezes_arrays():
    memo = TaskMemo()
    calls = []
    first = memo.get(("k", 1), lambda: calls.append(1) or (np.zeros(3), 2))
    again = memo.get(("k", 1), lambda: calls.append(1) or (np.ones(3), 2))
    assert again is first and calls == [1] and (memo.hits, memo.misses) == (1, 1)
    with pytest.raises(ValueError, match="read-only"):
        first[0][0] = 1.0
    assert memo.get(("k", 2), lambda: 5) == 5 and len(memo) == 2
    with pytest.raises(TypeError, match="must be hashable"):
        memo.get(["not", "hashable"], lambda: 0)


#: Power decoders: band-limited (7-30 Hz) power or covariance, blind by design to the phase-locked
#: evoked bump of make_subject (a 0.05-s Gaussian: ~4 % of its amplitude at 8 Hz). They are held to
#: the same check on induced data below (make_induced_subject), the world they are built for.
POWER_ONLY = {"band-power", "csp-lda", "mdm", "oracle-timing-power"}
LEARNERS = [s for s in SPECS if s.family != "baseline" and s.name not in POWER_ONLY]


@pytest.mark.parametrize("spec", LEARNERS, ids=[s.name for s in LEARNERS])
def test_beats_chance_on_localizer_and_full_transfer(spec):
    X, y, X_img, y_img = make_subject(5, n_per_class=10, signal=1.5)
    X_test, y_test, _, _ = make_subject(5, n_per_class=4, signal=1.5)  # same patterns, new noise
    est = spec.factory(context()).fit(X, y, **fit_params(spec, X_img, seed=5, signal=1.5))
    loc = ordered_proba(est, est.predict_proba(X_test), len(X_test), spec.name)
    loc_acc = np.mean(np.asarray(CLASS_NAMES)[loc.argmax(1)] == y_test)
    assert loc_acc > 0.4, f"{spec.name}: localizer accuracy {loc_acc:.2f} on easy data (chance 0.10)"
    img = ordered_proba(est, est.predict_proba_imagine(X_img), len(X_img), spec.name)
    img_acc = np.mean(np.asarray(CLASS_NAMES)[img.argmax(1)] == y_img)
    assert img_acc > 0.3, f"{spec.name}: imagine accuracy {img_acc:.2f} with full transfer (chance 0.10)"


INDUCED = [s for s in SPECS if s.name in POWER_ONLY | {"evoked-induced", "oracle-transfer"}]


def test_induced_check_covers_every_power_decoder():
    assert {s.name for s in INDUCED} >= POWER_ONLY | {"evoked-induced", "oracle-transfer"}


@pytest.mark.parametrize("spec", INDUCED, ids=[s.name for s in INDUCED])
def test_power_decoders_beat_chance_on_induced_data(spec):
    """Spectral, Riemannian and combined decoders decode what they are built for: induced power."""
    X, y, X_img, y_img = make_induced_subject(5)
    X_test, y_test, _, _ = make_induced_subject(5, n_per_class=4)  # same patterns, new noise and phases
    params = {"truth": make_induced_truth(5, len(X_img))} if "truth" in spec.uses else {}
    est = spec.factory(context()).fit(X, y, **params)
    loc = ordered_proba(est, est.predict_proba(X_test), len(X_test), spec.name)
    loc_acc = np.mean(np.asarray(CLASS_NAMES)[loc.argmax(1)] == y_test)
    assert loc_acc > 0.4, f"{spec.name}: localizer accuracy {loc_acc:.2f} on easy induced data (chance 0.10)"
    img = ordered_proba(est, est.predict_proba_imagine(X_img), len(X_img), spec.name)
    img_acc = np.mean(np.asarray(CLASS_NAMES)[img.argmax(1)] == y_img)
    assert img_acc > 0.3, f"{spec.name}: imagine accuracy {img_acc:.2f} with full induced transfer"


BUILDER_SPECS = [s for s in SPECS if s.builds_on]


def test_decoders_that_build_on_others_are_found():
    assert {s.name for s in BUILDER_SPECS} >= {
        "evoked-induced",
        "oracle-timing",
        "oracle-timing-power",
        "self-training",
    }
    for spec in BUILDER_SPECS:
        assert [b.name for b in spec.bases] == list(spec.builds_on)


@pytest.mark.parametrize("spec", BUILDER_SPECS, ids=[s.name for s in BUILDER_SPECS])
def test_handed_fits_of_the_decoders_built_on_give_the_decoders_own_outputs(spec, subject, caplog):
    """``fit(..., fitted=...)`` with the bases fitted by their own factories changes no output.

    The harness hands these fits where fits are shared (``DecoderSpec.builds_on``):
    the decoder must use them as its own fits of the same decoders, and fit a
    base itself when the handed one is missing or has other parameters.
    """
    X, y, X_img, _ = subject
    params = fit_params(spec, X_img)
    alone = spec.factory(context()).fit(X, y, **params).predict_proba_imagine(X_img)
    fitted = {b.name: b.factory(context()).fit(X, y) for b in spec.bases}
    handed = spec.factory(context()).fit(X, y, **params, fitted=fitted).predict_proba_imagine(X_img)
    np.testing.assert_array_equal(handed, alone, err_msg=f"{spec.module}: a handed fit changes the output")
    assert "other parameters" not in caplog.text, f"{spec.module}: refused the fits of its own bases"
    chance = next(s for s in SPECS if s.name == "chance")
    foreign = {b.name: chance.factory(context()).fit(X, y) for b in spec.bases}  # another decoder's fit
    refused = spec.factory(context()).fit(X, y, **params, fitted=foreign).predict_proba_imagine(X_img)
    np.testing.assert_array_equal(refused, alone, err_msg=f"{spec.module}: used a fit of another decoder")
    assert "other parameters" in caplog.text
