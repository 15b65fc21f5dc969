"""The organisers' example decoder and the transfer ceiling (oracle-transfer)."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.layout import CLASS_NAMES
from datasets.simulate import half_max_intervals
from decoders.official_example import OfficialExampleDecoder
from decoders.oracle_transfer import TransferOracleDecoder
from tests.synthetic import IMG_TIMES, LOC_TIMES, SFREQ

N_CH = 16
NAMES = np.asarray(CLASS_NAMES)


def _subject(seed: int, img_patterns: str = "visual", n_loc: int = 12, n_img: int = 6, snr: float = 1.0):
    """Localizer with class patterns at 0.2 s; imagine with one burst per trial at a random time."""
    rng = np.random.default_rng(seed)
    visual = rng.normal(size=(10, N_CH))
    other = rng.normal(size=(10, N_CH))
    y = rng.permutation(np.repeat(NAMES, n_loc))
    idx = np.searchsorted(NAMES, y)
    course = np.exp(-0.5 * ((LOC_TIMES - 0.2) / 0.04) ** 2)
    X = rng.normal(size=(len(y), N_CH, LOC_TIMES.size)) + snr * visual[idx][..., None] * course
    y_img = rng.permutation(np.repeat(np.arange(10), n_img))
    onsets = rng.uniform(0.3, 4.0, len(y_img))
    env = ((IMG_TIMES[None] >= onsets[:, None]) & (IMG_TIMES[None] < onsets[:, None] + 0.5)).astype(float)
    patterns = visual if img_patterns == "visual" else other
    X_img = (
        rng.normal(size=(len(y_img), N_CH, IMG_TIMES.size)) + snr * patterns[y_img][..., None] * env[:, None]
    )
    truth = {
        "class_names": NAMES,
        "localizer_patterns": snr * visual,
        "localizer_time_course": course,
        "imagine_envelopes": env,
        "imagine_intervals": half_max_intervals(env, IMG_TIMES),
    }
    return X, y, X_img, y_img, truth


def _oracle(**params) -> TransferOracleDecoder:
    return TransferOracleDecoder(sfreq=SFREQ, localizer_tmin=-0.2, imagine_tmin=-0.2, **params)


def test_transfer_oracle_finds_visual_imagery_and_only_that():
    X, y, X_img, y_img, truth = _subject(0)
    acc = np.mean(_oracle().fit(X, y, truth=truth).predict_proba_imagine(X_img).argmax(1) == y_img)
    assert acc > 0.8, acc
    # imagery made of non-visual patterns: the localizer patterns say nothing
    X, y, X_img, y_img, truth = _subject(0, img_patterns="other")
    acc = np.mean(_oracle().fit(X, y, truth=truth).predict_proba_imagine(X_img).argmax(1) == y_img)
    assert acc < 0.3, acc


def test_transfer_oracle_needs_the_true_interval():
    """Shifting every interval off the burst must destroy the ceiling: it matches where imagery is."""
    X, y, X_img, y_img, truth = _subject(1)
    shifted = dict(truth, imagine_intervals=truth["imagine_intervals"] + 0.6)
    right = np.mean(_oracle().fit(X, y, truth=truth).predict_proba_imagine(X_img).argmax(1) == y_img)
    wrong = np.mean(_oracle().fit(X, y, truth=shifted).predict_proba_imagine(X_img).argmax(1) == y_img)
    assert right > 0.8 and wrong < 0.35, (right, wrong)


def test_intervals_and_envelopes_give_the_same_mask():
    X, y, X_img, _, truth = _subject(2)
    with_intervals = _oracle().fit(X, y, truth=truth)
    legacy = {k: v for k, v in truth.items() if k != "imagine_intervals"}
    from_envelopes = _oracle().fit(X, y, truth=legacy)
    np.testing.assert_array_equal(
        with_intervals.imagery_mask(len(X_img), IMG_TIMES.size),
        from_envelopes.imagery_mask(len(X_img), IMG_TIMES.size),
    )
    np.testing.assert_allclose(
        with_intervals.predict_proba_imagine(X_img), from_envelopes.predict_proba_imagine(X_img)
    )


@pytest.mark.parametrize("noise", ["residuals", "baseline"])
def test_transfer_oracle_noise_models_and_errors(noise):
    X, y, X_img, y_img, truth = _subject(3)
    est = _oracle(noise=noise).fit(X, y, truth=truth)
    assert np.mean(est.predict_proba(X).argmax(1) == np.searchsorted(NAMES, y)) > 0.5
    with pytest.raises(ValueError, match="only decodes the subject's own imagine epochs"):
        est.predict_proba_imagine(X_img[:5])
    with pytest.raises(ValueError, match="allowed values are 'residuals' and 'baseline'"):
        _oracle(noise="imagine").fit(X, y, truth=truth)
    with pytest.raises(ValueError, match="imagine_intervals"):
        _oracle().fit(X, y, truth={k: truth[k] for k in ("class_names", "localizer_patterns")})


def _official(**params) -> OfficialExampleDecoder:
    return OfficialExampleDecoder(
        sfreq=SFREQ, localizer_tmin=-0.2, imagine_tmin=-0.2, random_state=0, **params
    )


def test_official_example_is_the_notebooks_method():
    X, y, X_img, _, _ = _subject(4, snr=1.5)
    est = _official().fit(X, y)
    # trained on the sample at 0.2 s (the notebook's t = 40 with tmin = -0.2 s at 100 Hz)
    assert est.train_index_ == 40
    scaler, ovr = (step for _, step in est.pipeline_.steps)
    assert type(scaler).__name__ == "RobustScaler" and type(ovr).__name__ == "OneVsRestClassifier"
    logreg = ovr.estimators_[0]
    assert (logreg.C, logreg.l1_ratio, logreg.solver) == (10.0, 1.0, "liblinear")
    assert len(ovr.estimators_) == 10
    # L1: some channel weights are exactly zero
    assert any((e.coef_ == 0).any() for e in ovr.estimators_)
    # scored over range(120): the first 1.2 s of the imagine epoch, per-class normalised, averaged
    course = est.imagine_time_course(X_img)
    assert course.shape == (len(X_img), 120, 10)
    flat = X_img[:, :, :120].transpose(0, 2, 1).reshape(-1, N_CH)
    raw = est.pipeline_.predict_proba(flat).reshape(len(X_img), 120, 10)
    expected = (raw / raw.mean(axis=(0, 1))).mean(axis=1)
    np.testing.assert_allclose(est.predict_proba_imagine(X_img), expected / expected.sum(1, keepdims=True))
    np.testing.assert_allclose(course.mean(axis=(0, 1)), 1.0)


def test_official_example_variants_and_errors():
    X, y, X_img, y_img, _ = _subject(5, snr=1.5)
    every = _official(scan=(None, None)).fit(X, y)
    assert every.imagine_time_course(X_img).shape[1] == IMG_TIMES.size
    # bursts at 0.3-4.5 s: scanning every time point finds more of them than the first second
    first_second = np.mean(_official().fit(X, y).predict_proba_imagine(X_img).argmax(1) == y_img)
    all_times = np.mean(every.predict_proba_imagine(X_img).argmax(1) == y_img)
    assert all_times > first_second, (all_times, first_second)
    median = _official(aggregate="median", scan=(0.0, 0.79)).fit(X, y)
    assert median.imagine_time_course(X_img).shape[1] == 80  # the notebook's range(20, 100)
    with pytest.raises(ValueError, match="allowed values are 'mean' and 'median'"):
        _official(aggregate="max").fit(X, y)
    with pytest.raises(ValueError, match="outside the localizer epochs"):
        _official(train_time=2.0).fit(X, y)
    with pytest.raises(ValueError, match="holds no sample"):
        _official(scan=(6.0, 7.0)).fit(X, y).predict_proba_imagine(X_img)


def _timing_context():
    from benchmark.contract import DecoderContext

    return DecoderContext(SFREQ, LOC_TIMES, IMG_TIMES, ("mag",) * N_CH, CLASS_NAMES, 0)


def _accuracy(estimator, X_img, y_img) -> float:
    return float(np.mean(estimator.predict_proba_imagine(X_img).argmax(1) == y_img))


def test_timing_oracle_is_lda_peak_with_the_true_interval():
    """Brief bursts at random times: knowing the interval beats lda-peak's label-free pooling,
    shifting it off the burst loses the signal, and non-visual imagery stays at chance."""
    from decoders.lda_peak import make as lda_peak
    from decoders.oracle_timing import make as timing_oracle

    X, y, X_img, y_img, truth = _subject(3, n_img=10, snr=0.15)
    oracle = timing_oracle(_timing_context()).fit(X, y, truth=truth)
    np.testing.assert_array_equal(oracle.predict_proba(X), oracle.scan_.predict_proba(X))
    timed = _accuracy(oracle, X_img, y_img)
    untimed = _accuracy(lda_peak(_timing_context()).fit(X, y), X_img, y_img)
    shifted = dict(truth, imagine_intervals=truth["imagine_intervals"] + 0.8)
    wrong = _accuracy(timing_oracle(_timing_context()).fit(X, y, truth=shifted), X_img, y_img)
    assert timed > untimed + 0.2 and timed > 0.6 and wrong < 0.3, (timed, untimed, wrong)
    X, y, X_img, y_img, truth = _subject(3, img_patterns="other", n_img=10, snr=0.15)
    other = _accuracy(timing_oracle(_timing_context()).fit(X, y, truth=truth), X_img, y_img)
    assert other < 0.25, other


def test_timing_oracle_refuses_a_truth_without_imagery():
    from decoders.oracle_timing import make as timing_oracle

    X, y, _, _, truth = _subject(3)
    partial = {k: v for k, v in truth.items() if k not in ("imagine_intervals", "imagine_envelopes")}
    with pytest.raises(ValueError, match="oracle-timing needs the simulator's truth with imagine_intervals"):
        timing_oracle(_timing_context()).fit(X, y, truth=partial)
