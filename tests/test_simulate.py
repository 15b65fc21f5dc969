"""Tests of the simulated dataset writer (``datasets.simulate``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from datasets import layout
from datasets.simulate import (
    IMAGINE_FIRST_SAMPLE,
    IMAGINE_SAMPLE_STEP,
    METADATA_FILE,
    PATTERNS_DIR,
    SIMULATOR_VERSION,
    SOLUTION_FILE,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    SimulationConfig,
    default_truth_dir,
    simulate_dataset,
)

SMALL = SimulationConfig(n_train=2, n_test=1, n_localizer_per_class=4, n_imagine_per_class=(3, 3), seed=3)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small dataset (2 train + 1 test subjects) and its ground truth."""
    base = tmp_path_factory.mktemp("sim")
    root = base / "data"
    truth = simulate_dataset(root, SMALL)
    return root, truth


def _read(path: Path) -> mne.Epochs:
    return mne.read_epochs(path, preload=True, verbose="error")


def _subject_dirs(root: Path) -> list[tuple[str, str, Path]]:
    out = [("train", s, root / "train" / s) for s in SMALL.train_subjects]
    return out + [("test", s, root / "test" / s) for s in SMALL.test_subjects]


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_subject_lists_are_the_real_studys() -> None:
    assert TRAIN_SUBJECTS[:3] == ("sub-02", "sub-05", "sub-06")
    assert len(TRAIN_SUBJECTS) == 15 and len(TEST_SUBJECTS) == 14
    assert not set(TRAIN_SUBJECTS) & set(TEST_SUBJECTS)
    full = SimulationConfig.full(alpha=0.5)
    assert (full.n_train, full.n_test, full.alpha) == (15, 14, 0.5)
    assert SMALL.train_subjects == ("sub-02", "sub-05")
    assert SMALL.test_subjects == ("sub-01",)


@pytest.mark.parametrize(
    "overrides",
    [
        {"alpha": 1.5},
        {"alpha": -0.1},
        {"n_train": 16},
        {"n_test": 15},
        {"n_train": 0, "n_test": 0},
        {"n_imagine_per_class": (5, 3)},
        {"n_localizer_per_class": 0},
        {"snr": -1.0},
        {"imagery_onset_range_s": (0.3, 6.0)},
        {"class_peak_range_s": (0.1,)},
        {"blink_rate_hz": (-0.1, 0.1)},
    ],
)
def test_config_rejects_bad_values(overrides: dict) -> None:
    with pytest.raises(ValueError):
        SimulationConfig(**overrides)


def test_config_takes_lists_for_pairs() -> None:
    config = SimulationConfig(n_imagine_per_class=[2, 4])
    assert config.n_imagine_per_class == (2, 4)
    hash(config)  # still a usable, frozen key


def test_file_layout(small: tuple[Path, Path]) -> None:
    root, truth = small
    expected = {"train/" + layout.TRAIN_IMAGINE_LABELS}
    for split, subject, _ in _subject_dirs(root):
        names = [
            f"{subject}_localizer-epo.fif",
            f"{subject}_localizer-labels.csv",
            f"{subject}_imagine-epo.fif",
        ]
        if split == "train":
            names.append(f"{subject}_imagine-labels.csv")
        expected |= {f"{split}/{subject}/{name}" for name in names}
    found = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert found == expected
    assert truth == default_truth_dir(root) == root.parent / "data-truth"
    assert root not in truth.parents
    truth_files = {str(p.relative_to(truth)) for p in truth.rglob("*") if p.is_file()}
    assert truth_files == {SOLUTION_FILE, METADATA_FILE} | {
        f"{PATTERNS_DIR}/{s}.npz" for s in SMALL.train_subjects + SMALL.test_subjects
    }


def test_epochs_read_back(small: tuple[Path, Path]) -> None:
    root, _ = small
    for split, subject, folder in _subject_dirs(root):
        loc = _read(layout.localizer_epochs_file(folder, subject))
        img = _read(layout.imagine_epochs_file(folder, subject))
        for epochs, n_times, tmax in ((loc, 121, 1.0), (img, 521, 5.0)):
            assert epochs.info["sfreq"] == 100.0
            assert epochs.times.shape == (n_times,)
            assert epochs.tmin == pytest.approx(-0.2) and epochs.tmax == pytest.approx(tmax)
            assert epochs.baseline == pytest.approx((-0.2, 0.0))
            types = epochs.get_channel_types()
            assert len(types) == 309
            assert (types.count("mag"), types.count("grad")) == (102, 204)
            assert epochs.ch_names[-3:] == list(layout.BIO_CHANNELS)
            assert types[-3:] == list(layout.BIO_CHANNELS.values())
            assert all(re.fullmatch(r"MEG\d{4}", name) for name in epochs.ch_names[:306])
            assert epochs.info["dev_head_t"] is not None
            assert np.isfinite(epochs.get_data()).all()
        assert len(loc) == 10 * SMALL.n_localizer_per_class
        assert loc.event_id == layout.EVENT_ID
        counts = np.bincount(loc.events[:, 2], minlength=11)[1:]
        assert (counts == SMALL.n_localizer_per_class).all()
        assert np.all(np.diff(loc.events[:, 0]) > 0)
        assert not np.array_equal(loc.events[:, 2], np.sort(loc.events[:, 2])), "not shuffled"
        n_img = len(img)
        assert n_img % 10 == 0 and 30 <= n_img <= 50
        np.testing.assert_array_equal(
            img.events[:, 0], IMAGINE_FIRST_SAMPLE + IMAGINE_SAMPLE_STEP * np.arange(n_img)
        )
        if split == "train":
            assert img.event_id == layout.EVENT_ID
            assert (np.bincount(img.events[:, 2], minlength=11)[1:] == n_img // 10).all()
        else:
            assert img.event_id == {f"unknown/{i}": i for i in range(1, n_img + 1)}
            np.testing.assert_array_equal(img.events[:, 2], np.arange(1, n_img + 1))


def test_subjects_differ_in_head_position(small: tuple[Path, Path]) -> None:
    root, _ = small
    heads = [
        mne.io.read_info(layout.localizer_epochs_file(folder, s), verbose="error")["dev_head_t"]["trans"]
        for _, s, folder in _subject_dirs(root)
    ]
    assert not np.allclose(heads[0], heads[1])


def test_meg_rank_is_that_of_sss_data(small: tuple[Path, Path]) -> None:
    root, _ = small
    _, subject, folder = _subject_dirs(root)[0]
    data = _read(layout.imagine_epochs_file(folder, subject)).get_data(picks="meg")
    flat = data.transpose(1, 0, 2).reshape(306, -1)
    # Scale magnetometers and gradiometers alike before the rank estimate.
    flat = flat / flat.std(axis=1, keepdims=True)
    evals = np.linalg.eigvalsh(flat @ flat.T)
    rank = int(np.sum(evals > 1e-8 * evals.max()))
    assert 55 <= rank <= 85, f"rank {rank}, expected ~70 like tSSS data"


def test_label_csvs_match_epochs(small: tuple[Path, Path]) -> None:
    root, _ = small
    all_train = []
    for split, subject, folder in _subject_dirs(root):
        loc = _read(layout.localizer_epochs_file(folder, subject))
        pairs = [(loc, layout.localizer_labels_file(folder, subject), "localizer")]
        if split == "train":
            img = _read(layout.imagine_epochs_file(folder, subject))
            pairs.append((img, layout.imagine_labels_file(folder, subject), "imagine"))
        else:
            assert not layout.imagine_labels_file(folder, subject).exists()
        for epochs, csv, trial_type in pairs:
            frame = pd.read_csv(csv)
            assert tuple(frame.columns) == layout.LABEL_COLUMNS
            assert (frame["subject"] == subject).all()
            assert (frame["trial_type"] == trial_type).all()
            np.testing.assert_array_equal(frame["trial_idx"], np.arange(1, len(epochs) + 1))
            np.testing.assert_array_equal(frame["trigger"], epochs.events[:, 2])
            code_to_name = {v: k for k, v in layout.EVENT_ID.items()}
            assert list(frame["label"]) == [code_to_name[c] for c in epochs.events[:, 2]]
            if trial_type == "imagine":
                all_train.append(frame)
    combined = pd.read_csv(root / "train" / layout.TRAIN_IMAGINE_LABELS)
    pd.testing.assert_frame_equal(combined, pd.concat(all_train, ignore_index=True))


def test_truth(small: tuple[Path, Path]) -> None:
    root, truth = small
    solution = pd.read_csv(truth / SOLUTION_FILE)
    assert list(solution.columns) == ["ID", "label", "Usage"]
    assert (solution["Usage"] == "Public").all()
    expected_ids = []
    for split, subject, folder in _subject_dirs(root):
        arrays = np.load(truth / PATTERNS_DIR / f"{subject}.npz")
        n_img = len(_read(layout.imagine_epochs_file(folder, subject)))
        assert arrays["imagine_labels"].shape == (n_img,)
        assert arrays["imagine_onsets"].shape == (n_img,)
        assert np.all((arrays["imagine_onsets"] >= 0.3) & (arrays["imagine_onsets"] <= 1.5))
        assert arrays["localizer_patterns"].shape == (10, 306)
        assert arrays["imagery_patterns"].shape == (10, 306)
        assert arrays["imagine_envelopes"].shape == (n_img, 521)
        if split == "test":
            expected_ids += [layout.submission_id(subject, i) for i in range(1, n_img + 1)]
            rows = solution[solution["ID"].str.startswith(f"{subject}_")]
            assert list(rows["label"]) == list(arrays["imagine_labels"])
        else:
            frame = pd.read_csv(layout.imagine_labels_file(folder, subject))
            assert list(frame["label"]) == list(arrays["imagine_labels"])
    assert list(solution["ID"]) == expected_ids
    meta = json.loads((truth / METADATA_FILE).read_text())
    assert meta["simulator_version"] == SIMULATOR_VERSION
    assert meta["seed"] == SMALL.seed
    assert meta["config"]["alpha"] == SMALL.alpha
    assert set(meta["config"]) == {f.name for f in dataclasses.fields(SimulationConfig)}
    for subject in SMALL.train_subjects + SMALL.test_subjects:
        assert "imagery_onset_mean_s" in meta["subjects"][subject]


def test_same_seed_gives_identical_files(small: tuple[Path, Path], tmp_path: Path) -> None:
    root, truth = small
    truth2 = simulate_dataset(tmp_path / "data", SMALL)
    assert _hashes(tmp_path / "data") == _hashes(root)
    assert _hashes(truth2) == _hashes(truth)


def test_other_seed_gives_other_data(small: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = small
    config = dataclasses.replace(SMALL, n_train=1, n_test=0, seed=SMALL.seed + 1)
    simulate_dataset(tmp_path / "data", config, truth_dir=tmp_path / "truth")
    subject = config.train_subjects[0]
    new = _read(layout.localizer_epochs_file(tmp_path / "data" / "train" / subject, subject))
    old = _read(layout.localizer_epochs_file(root / "train" / subject, subject))
    assert not np.allclose(new.get_data(), old.get_data())


def test_imagine_baseline_can_be_off(tmp_path: Path) -> None:
    config = SimulationConfig(n_train=0, n_test=1, n_localizer_per_class=1, imagine_baseline=False)
    simulate_dataset(tmp_path / "data", config)
    subject = config.test_subjects[0]
    folder = tmp_path / "data" / "test" / subject
    assert _read(layout.imagine_epochs_file(folder, subject)).baseline is None
    assert _read(layout.localizer_epochs_file(folder, subject)).baseline == pytest.approx((-0.2, 0.0))


def test_refuses_non_empty_root(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (root / "something.txt").write_text("x")
    with pytest.raises(ValueError, match=re.escape(str(root))):
        simulate_dataset(root, SMALL)


def test_refuses_truth_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with pytest.raises(ValueError, match="inside"):
        simulate_dataset(root, SMALL, truth_dir=root / "truth")
    assert not root.exists()


@pytest.mark.slow
def test_localizer_is_decodable(tmp_path: Path) -> None:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    config = SimulationConfig(n_train=1, n_test=0, n_localizer_per_class=30, snr=2.0, seed=1)
    truth = simulate_dataset(tmp_path / "data", config)
    subject = config.train_subjects[0]
    epochs = _read(layout.localizer_epochs_file(tmp_path / "data" / "train" / subject, subject))
    peak = json.loads((truth / METADATA_FILE).read_text())["subjects"][subject]["class_peak_latency_s"]
    X = epochs.get_data(picks="meg", tmin=peak - 0.011, tmax=peak + 0.011).mean(axis=-1)
    y = epochs.events[:, 2]
    clf = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(clf, X, y, cv=cv).mean()
    # Chance is 0.1; 300 trials put the 99th percentile of chance near 0.16.
    assert accuracy > 0.2, f"localizer accuracy {accuracy:.2f} at the class peak"


def test_subjects_simulated_in_parallel_write_the_same_files(tmp_path):
    """n_jobs only spreads the subjects over processes: every file, truth included, is byte-identical."""
    config = SimulationConfig(n_train=2, n_test=1, n_localizer_per_class=4, n_imagine_per_class=(2, 2))

    def digests(folder):
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    simulate_dataset(tmp_path / "serial" / "data", config, n_jobs=1)
    simulate_dataset(tmp_path / "parallel" / "data", config, n_jobs=2)
    serial, parallel = digests(tmp_path / "serial"), digests(tmp_path / "parallel")
    assert len(serial) >= 10 and serial == parallel
