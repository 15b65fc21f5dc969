"""Induced (oscillatory power) imagery in the simulator (issue 23): off by default, its own stream."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import regimes
from datasets.simulate import SimulationConfig, simulate_subject

SMALL = {"n_localizer_per_class": 4, "n_imagine_per_class": (3, 3), "alpha": 1.0, "seed": 5}
INDUCED = {"induced_separation": 0.8}


@pytest.fixture(scope="module")
def pair() -> tuple:
    """sub-06 without and with induced activity (evoked code unchanged)."""
    off = simulate_subject("sub-06", SimulationConfig(**SMALL))
    on = simulate_subject("sub-06", SimulationConfig(**SMALL, **INDUCED))
    return off, on


def test_induced_adds_to_the_same_trials_and_leaves_every_other_draw(pair) -> None:
    off, on = pair
    for key in (
        "localizer_labels",
        "imagine_labels",
        "imagine_onsets",
        "imagine_envelopes",
        "localizer_patterns",
    ):
        np.testing.assert_array_equal(off.truth[key], on.truth[key], err_msg=key)
    assert "induced_localizer_patterns" not in off.truth and "induced_peak_hz" in on.truth
    times = on.truth["localizer_times"]
    diff = on.localizer.data - off.localizer.data
    # nothing before the induced plateau's rise (0.1 s), nothing on the bio channels
    assert np.abs(diff[:, :, times < 0.1]).max() == 0.0
    assert np.abs(diff[:, 306:]).max() == 0.0
    # each trial adds its class's topography times one time course (rank one)
    labels = np.searchsorted(on.truth["class_names"], on.truth["localizer_labels"])
    patterns = on.truth["induced_localizer_patterns"]
    for trial in range(0, len(labels), 7):
        course = patterns[labels[trial]] @ diff[trial, :306] / np.sum(patterns[labels[trial]] ** 2)
        np.testing.assert_allclose(
            np.outer(patterns[labels[trial]], course), diff[trial, :306], atol=1e-6 * np.abs(diff).max()
        )


def test_induced_code_is_invisible_in_the_trial_average(pair) -> None:
    """A random phase on every trial: the class-mean added waveform is small next to its single trials."""
    off, on = pair
    diff = (on.localizer.data - off.localizer.data)[:, :306]
    labels = on.truth["localizer_labels"]
    for label in np.unique(labels)[:3]:
        trials = diff[labels == label]
        single = np.sqrt(np.mean(trials**2))
        average = np.sqrt(np.mean(trials.mean(axis=0) ** 2))
        assert average < 0.8 * single, label  # 4 trials of random phase: ~1/2 expected, 1 if phase-locked


def test_induced_power_is_narrow_band_at_the_subject_peak(pair) -> None:
    off, on = pair
    diff = (on.imagine.data - off.imagine.data)[:, :306]
    spectrum = np.abs(np.fft.rfft(diff, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(diff.shape[-1], 0.01)
    peak = freqs[spectrum.sum(axis=(0, 1)).argmax()]
    assert abs(peak - float(on.truth["induced_peak_hz"])) < 2.0
    config = SimulationConfig()
    assert (
        config.induced_peak_range_hz[0]
        <= float(on.truth["induced_peak_hz"])
        <= config.induced_peak_range_hz[1]
    )


def test_induced_transfer_weight_follows_alpha_unless_set() -> None:
    common = {**SMALL, **INDUCED, "n_localizer_per_class": 1}
    none = simulate_subject("sub-02", SimulationConfig(**{**common, "alpha": 0.0})).truth
    np.testing.assert_allclose(none["induced_imagery_patterns"], none["induced_nonvisual_patterns"])
    own = simulate_subject("sub-02", SimulationConfig(**{**common, "alpha": 0.0, "induced_alpha": 1.0})).truth
    np.testing.assert_allclose(own["induced_imagery_patterns"], own["induced_localizer_patterns"])
    assert not np.any(none["induced_imagery_patterns"] @ none["induced_localizer_patterns"].T == 0)


def test_evoked_gain_zero_leaves_only_the_induced_code() -> None:
    config = regimes.regime_config("induced", **{**SMALL, "n_localizer_per_class": 1})
    truth = simulate_subject("sub-02", config).truth
    assert not np.any(truth["localizer_patterns"]) and not np.any(truth["imagery_patterns"])
    assert np.all(np.linalg.norm(truth["induced_localizer_patterns"], axis=1) > 0)


def test_induced_and_mixed_regimes_are_registered() -> None:
    names = list(regimes.REGIMES)
    assert names[:7] == [
        "default",
        "brief",
        "reactivations",
        "late",
        "full-rank",
        "snr-spread",
        "brief-full-rank",
    ]
    for name in ("induced", "induced-full-rank", "mixed", "mixed-full-rank"):
        config = regimes.regime_config(name)
        assert config.induced_separation > 0
        assert config.evoked_gain == (0.0 if name.startswith("induced") else regimes.MIXED_GAIN)
        assert config.sss_projection == (not name.endswith("full-rank"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"induced_separation": -1.0},
        {"evoked_gain": float("nan")},
        {"induced_alpha": 1.5},
        {"induced_peak_range_hz": (20.0, 10.0)},
        {"induced_peak_range_hz": (8.0, 45.0)},
        {"induced_bandwidth_hz": 0.0},
        {"induced_window_s": (0.5, 0.2)},
    ],
)
def test_config_rejects_bad_induced_values(overrides: dict) -> None:
    with pytest.raises(ValueError):
        SimulationConfig(**overrides)
