"""Simulation regimes (issue 12): imagery timing, data rank, weak subjects, and their truth."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from datasets import regimes
from datasets.default import _LAYOUT_VERSION, default_dataset
from datasets.simulate import (
    REGIME_FIELD_DEFAULTS,
    SIMULATOR_VERSION,
    TRAIN_SUBJECTS,
    SimulationConfig,
    half_max_intervals,
    is_weak_subject,
    simulate_dataset,
    simulate_subject,
)

#: One small subject per regime (12 localizer trials per class, 3 imagine trials per class).
SMALL = {"n_localizer_per_class": 2, "n_imagine_per_class": (3, 3), "alpha": 1.0, "seed": 5}


@pytest.fixture(scope="module")
def simulated() -> dict:
    return {
        name: simulate_subject("sub-06", regimes.regime_config(name, **SMALL))
        for name in ("default", "brief", "reactivations", "late", "full-rank", "snr-spread")
    }


def _rank(data: np.ndarray) -> int:
    flat = data.transpose(1, 0, 2).reshape(data.shape[1], -1)
    flat = flat / flat.std(axis=1, keepdims=True)
    evals = np.linalg.eigvalsh(flat @ flat.T)
    return int(np.sum(evals > 1e-8 * evals.max()))


def _intervals(sim) -> list[list[tuple[float, float]]]:
    out = []
    for trial in sim.truth["imagine_intervals"]:
        out.append([(a, b) for a, b in trial if not np.isnan(a)])
    return out


def test_neutral_values_are_the_defaults() -> None:
    defaults = SimulationConfig()
    for name, value in REGIME_FIELD_DEFAULTS.items():
        assert getattr(defaults, name) == value, name
    assert regimes.regime_config("default") == defaults
    assert list(regimes.REGIMES)[0] == "default"


def test_registry_and_errors() -> None:
    for regime in regimes.REGIMES.values():
        config = regimes.regime_config(regime.name, alpha=0.5)
        for field, value in regime.overrides.items():
            assert getattr(config, field) == value
        assert regime.description
    with pytest.raises(KeyError, match="valid regimes: default"):
        regimes.get_regime("nope")
    with pytest.raises(ValueError, match="sets imagery_timing"):
        regimes.regime_config("brief", imagery_timing="late")


@pytest.mark.parametrize(
    "overrides",
    [
        {"imagery_timing": "sometimes"},
        {"burst_duration_range_s": (0.1, 0.5)},
        {"burst_onset_range_s": (0.3, 5.5)},
        {"n_reactivations": (0, 2)},
        {"weak_subject_period": -1},
        {"weak_subject_gain": -0.5},
        {"sensor_noise_ratio": float("nan")},
        {"late_onset_range_s": (4.0, 2.0)},
    ],
)
def test_config_rejects_bad_regime_values(overrides: dict) -> None:
    with pytest.raises(ValueError):
        SimulationConfig(**overrides)


def test_timing_regimes_place_imagery_where_documented(simulated: dict) -> None:
    config = SimulationConfig()
    # sustained (default): one interval per trial, starting in the onset range, 1-3 s long
    for runs in _intervals(simulated["default"]):
        assert len(runs) == 1
        start, stop = runs[0]
        assert config.imagery_onset_range_s[0] <= start <= config.imagery_onset_range_s[1] + 0.3
        assert 0.9 <= stop - start <= 3.0
    # brief: one burst, half-max length under the burst's total length, onset 0.3-3.0 s
    for runs in _intervals(simulated["brief"]):
        assert len(runs) == 1
        start, stop = runs[0]
        assert 0.3 <= start <= 3.1 and stop - start <= 0.8
    # reactivations: 1-4 runs (overlapping bursts merge), more than one on average
    counts = [len(r) for r in _intervals(simulated["reactivations"])]
    assert min(counts) >= 1 and max(counts) <= 4 and np.mean(counts) > 1.5
    # late: nothing before 2 s
    starts = [runs[0][0] for runs in _intervals(simulated["late"])]
    assert min(starts) >= 2.0
    # the envelope lives where the intervals say (half its peak inside, nothing outside support)
    for name in ("brief", "reactivations", "late"):
        sim = simulated[name]
        times = sim.truth["imagine_times"]
        for env, runs in zip(sim.truth["imagine_envelopes"], _intervals(sim), strict=True):
            inside = np.zeros(len(times), bool)
            for a, b in runs:
                inside |= (times >= a - 1e-9) & (times <= b + 1e-9)
            assert (env[inside] >= 0.5 * env.max() - 1e-12).all()
            assert (env[~inside] < 0.5 * env.max() + 1e-12).all()


def test_same_design_across_regimes(simulated: dict) -> None:
    """Regimes change the signal, not the trial design: labels are the same."""
    labels = simulated["default"].truth["imagine_labels"]
    for sim in simulated.values():
        np.testing.assert_array_equal(sim.truth["imagine_labels"], labels)


def test_full_rank_regime_has_full_rank(simulated: dict) -> None:
    assert 55 <= _rank(simulated["default"].imagine.data[:, :306]) <= 85
    assert _rank(simulated["full-rank"].imagine.data[:, :306]) == 306
    assert simulated["full-rank"].metadata["sss_rank"] == 306
    # every channel carries noise (the real covariance lacks one channel)
    assert simulated["full-rank"].localizer.data[:, :306, :20].std(axis=(0, 2)).min() > 0


def test_weak_subjects_depend_only_on_their_id(simulated: dict) -> None:
    config = regimes.regime_config("snr-spread")
    weak = [s for s in TRAIN_SUBJECTS if is_weak_subject(s, config)]
    assert weak == ["sub-06", "sub-13", "sub-17", "sub-28", "sub-31"]
    assert not is_weak_subject("sub-06", SimulationConfig())
    strong, faint = simulated["default"], simulated["snr-spread"]
    assert faint.metadata["weak_subject"] and not strong.metadata["weak_subject"]
    ratio = np.linalg.norm(faint.truth["localizer_patterns"]) / np.linalg.norm(
        strong.truth["localizer_patterns"]
    )
    assert ratio == pytest.approx(0.1, rel=1e-6)


def test_half_max_intervals() -> None:
    times = np.arange(10) / 10
    shapes = np.array(
        [[0, 0.9, 0.9, 0, 0, 2, 2, 2, 0, 1.5], [0] * 10, [0, 0, 0.4, 0.6, 1, 0.6, 0.4, 0, 0, 0]], float
    )
    out = half_max_intervals(shapes, times)
    assert out.shape == (3, 2, 2)
    # trial 0: the run at 0.9 is under half of the peak 2; [0.5, 0.7] and [0.9, 0.9] count
    np.testing.assert_allclose(out[0], [[0.5, 0.7], [0.9, 0.9]])
    assert np.isnan(out[1]).all() and np.isnan(out[2, 1]).all()
    np.testing.assert_allclose(out[2, 0], [0.3, 0.5])


def test_default_cache_key_ignores_neutral_regime_fields(tmp_path: Path, monkeypatch) -> None:
    """The default dataset keeps its cache folder; a regime gets its own."""
    seen = []

    def fake(root, config, **_):
        seen.append(Path(root).parent.name.split(".partial")[0])
        raise RuntimeError("stop")

    monkeypatch.setattr("datasets.simulate.simulate_dataset", fake)
    for config in (SimulationConfig(), regimes.regime_config("default"), regimes.regime_config("brief")):
        with pytest.raises(RuntimeError):
            default_dataset(config, tmp_path)
    assert seen[0] == seen[1] != seen[2]
    # the folder of the committed leaderboard's dataset (reports/run.json, dataset_root)
    assert seen[0] == "simulated-e410c01173"
    # the key of the default is computed without the regime fields, as before they existed
    key = json.dumps(
        {
            "version": SIMULATOR_VERSION,
            "layout": _LAYOUT_VERSION,
            **{
                k: v
                for k, v in dataclasses.asdict(SimulationConfig()).items()
                if k not in REGIME_FIELD_DEFAULTS
            },
        },
        sort_keys=True,
        default=str,
    )
    assert seen[0] == f"simulated-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def test_regime_dataset_written_with_intervals(tmp_path: Path) -> None:
    config = regimes.regime_config("reactivations", n_train=1, n_test=0, **SMALL)
    truth = simulate_dataset(tmp_path / "data", config)
    arrays = np.load(truth / "patterns" / "sub-02.npz")
    assert arrays["imagine_intervals"].ndim == 3 and arrays["imagine_intervals"].shape[2] == 2
    meta = json.loads((truth / "simulation.json").read_text())
    assert meta["config"]["imagery_timing"] == "reactivations"
    assert meta["subjects"]["sub-02"]["weak_subject"] is False


def test_default_dataset_announces_only_a_generation(tmp_path: Path, monkeypatch) -> None:
    """The command line's callback runs before a simulation, never when the dataset is already there."""

    def fake(root, config, **_):
        Path(root).mkdir(parents=True)

    monkeypatch.setattr("datasets.simulate.simulate_dataset", fake)
    announced = []
    first = default_dataset(None, tmp_path, on_generate=announced.append)
    assert announced == [first.parent]
    assert default_dataset(None, tmp_path, on_generate=announced.append) == first
    assert announced == [first.parent]  # the second call found the complete dataset
