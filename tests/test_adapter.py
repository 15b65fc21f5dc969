"""The dataset adapter: reading the official layout and refusing bad input."""

import mne
import numpy as np
import pandas as pd
import pytest

from benchmark.errors import DatasetError
from datasets import ChallengeDataset, layout


def _subject_dir(root, subject):
    return next(root.glob(f"**/{subject}"))


def test_reads_nested_kaggle_layout_and_vectorview_names(foreign_root):
    dataset = ChallengeDataset(foreign_root)
    assert dataset.subjects_in("train") == ["sub-02", "sub-03"]
    assert dataset.subjects_in("test") == ["sub-40"]
    data = dataset.load("sub-02")
    assert data.localizer.X.shape == (80, 24, 121)
    assert data.imagine.X.shape == (30, 24, 521)
    assert data.localizer.X.dtype == np.float32
    assert data.localizer.ch_names[0] == "MEG0111"  # 'MEG 0111' normalised
    assert set(data.localizer.ch_types) == {"mag", "grad"}
    assert data.localizer.baseline == pytest.approx((-0.2, 0.0))
    assert data.localizer.sfreq == 100.0
    np.testing.assert_allclose(data.imagine.times[[0, -1]], [-0.2, 5.0])
    assert sorted(set(data.localizer_labels)) == list(layout.CLASS_NAMES)


def test_decoder_side_holds_no_imagine_labels(foreign_root):
    data = ChallengeDataset(foreign_root).load("sub-02")
    fields = {name: getattr(data, name) for name in vars(data)}
    assert "imagine_labels" not in fields
    assert not hasattr(data.imagine, "labels") and not hasattr(data.imagine, "events")


def test_imagine_labels_for_scoring_only_on_train(foreign_root):
    dataset = ChallengeDataset(foreign_root)
    labels = dataset.imagine_labels("sub-02")
    assert labels.shape == (30,)
    csv = pd.read_csv(next(foreign_root.glob("**/sub-02_imagine-labels.csv")))
    np.testing.assert_array_equal(labels, csv.sort_values("trial_idx")["label"].to_numpy())
    assert dataset.imagine_class_counts("sub-02").tolist() == [3] * 10
    with pytest.raises(DatasetError, match="test subject"):
        dataset.imagine_labels("sub-40")


def test_missing_root_and_empty_root(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ChallengeDataset(tmp_path / "nope")
    (tmp_path / "data.zip").write_bytes(b"PK")
    with pytest.raises(DatasetError, match="data.zip is a file, not a folder"):
        ChallengeDataset(tmp_path / "data.zip")
    with pytest.raises(DatasetError, match="No subject folders"):
        ChallengeDataset(tmp_path)


def test_unknown_subject_named(foreign_root):
    with pytest.raises(DatasetError, match="sub-99.*available: sub-02"):
        ChallengeDataset(foreign_root).load("sub-99")


def test_missing_file_named(fresh_foreign_root):
    target = layout.imagine_epochs_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")
    target.unlink()
    dataset = ChallengeDataset(fresh_foreign_root)
    with pytest.raises(DatasetError, match="Missing epochs file .*sub-02_imagine-epo.fif"):
        dataset.load("sub-02")


def test_corrupted_fif_named(fresh_foreign_root):
    # sub-40 is not the reference subject: its own read must fail
    target = layout.localizer_epochs_file(_subject_dir(fresh_foreign_root, "sub-40"), "sub-40")
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 3])
    with pytest.raises(DatasetError, match="sub-40_localizer-epo.fif.*truncated or corrupted"):
        ChallengeDataset(fresh_foreign_root).load("sub-40")


def test_labels_disagreeing_with_events(fresh_foreign_root):
    csv = layout.localizer_labels_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")
    frame = pd.read_csv(csv)
    frame.loc[0, "label"] = next(c for c in layout.CLASS_NAMES if c != frame.loc[0, "label"])
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match="sub-02_localizer-labels.csv: label of trial_idx 1"):
        ChallengeDataset(fresh_foreign_root).load("sub-02")


def test_labels_missing_rows(fresh_foreign_root):
    csv = layout.localizer_labels_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")
    pd.read_csv(csv).iloc[:-3].to_csv(csv, index=False)
    with pytest.raises(DatasetError, match="77 rows .* has 80 epochs.*missing trial_idx 78, 79, 80"):
        ChallengeDataset(fresh_foreign_root).load("sub-02")


def test_unknown_item_name(fresh_foreign_root):
    csv = layout.imagine_labels_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")
    frame = pd.read_csv(csv)
    frame.loc[2, "label"] = "giraffe"
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match="unknown item name.*giraffe.* at trial_idx 3;"):
        ChallengeDataset(fresh_foreign_root).imagine_labels("sub-02")


def test_imagine_labels_with_array_cache_skip_the_fif_but_still_check_the_csv(
    fresh_foreign_root, tmp_path, monkeypatch
):
    import datasets.reading as reading

    expected = ChallengeDataset(fresh_foreign_root).imagine_labels("sub-02")
    cached = ChallengeDataset(fresh_foreign_root, cache_dir=tmp_path / "arrays")
    cached.load("sub-02")  # fills the cache, event names included

    def no_fif_reads(fname, **kwargs):
        raise AssertionError(f"{fname} was read although the cache holds its events")

    monkeypatch.setattr(reading, "read_epochs", no_fif_reads)
    np.testing.assert_array_equal(cached.imagine_labels("sub-02"), expected)
    csv = layout.imagine_labels_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")
    frame = pd.read_csv(csv)
    frame.loc[0, "label"] = next(c for c in layout.CLASS_NAMES if c != frame.loc[0, "label"])
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match="disagree|differ"):
        cached.imagine_labels("sub-02")


def _rewrite(fname, transform):
    epochs = mne.read_epochs(fname, preload=True, verbose="error")
    epochs = transform(epochs)
    epochs.save(fname, overwrite=True, fmt="single", verbose="error")


def test_nan_samples_named(fresh_foreign_root):
    fname = layout.imagine_epochs_file(_subject_dir(fresh_foreign_root, "sub-40"), "sub-40")

    def poison(epochs):
        epochs._data[3, 0, 10] = np.nan
        return epochs

    _rewrite(fname, poison)
    with pytest.raises(
        DatasetError,
        match="sub-40_imagine-epo.fif: 1 NaN/inf samples in 1 epoch.*trial_idx 4 "
        ".*first: trial_idx 4, channel MEG 0111",
    ):
        ChallengeDataset(fresh_foreign_root).load("sub-40")


def test_other_sampling_rate_named(fresh_foreign_root):
    subject_dir = _subject_dir(fresh_foreign_root, "sub-40")
    for fname in (
        layout.localizer_epochs_file(subject_dir, "sub-40"),
        layout.imagine_epochs_file(subject_dir, "sub-40"),
    ):
        _rewrite(fname, lambda e: e.resample(50.0, verbose="error"))
    # two subjects, two rates: neither is the norm, and the message says so
    with pytest.raises(DatasetError, match="no majority \\(100.0 Hz: sub-02; 50.0 Hz: sub-40\\)"):
        ChallengeDataset(fresh_foreign_root).load("sub-40")
    dataset = ChallengeDataset(fresh_foreign_root)
    dataset.set_reference(["sub-02"])  # the run's subjects decide, not the folders on disk
    with pytest.raises(DatasetError, match="sampling rate 50.0 Hz, but sub-02 has 100.0 Hz"):
        dataset.load("sub-40")


def test_channel_sets_differ_between_files(fresh_foreign_root):
    fname = layout.imagine_epochs_file(_subject_dir(fresh_foreign_root, "sub-40"), "sub-40")
    _rewrite(fname, lambda e: e.drop_channels(["MEG 0111"]))
    with pytest.raises(DatasetError, match="MEG channels differ.*missing \\['MEG0111'\\]"):
        ChallengeDataset(fresh_foreign_root).load("sub-40")


def test_class_without_localizer_trials(fresh_foreign_root):
    subject_dir = _subject_dir(fresh_foreign_root, "sub-40")
    fname = layout.localizer_epochs_file(subject_dir, "sub-40")
    _rewrite(fname, lambda e: e[[name for name in layout.CLASS_NAMES if name != "zebra"]])
    csv = layout.localizer_labels_file(subject_dir, "sub-40")
    frame = pd.read_csv(csv)
    frame = frame[frame["label"] != "zebra"].reset_index(drop=True)
    frame["trial_idx"] = np.arange(1, len(frame) + 1)
    frame.to_csv(csv, index=False)
    with pytest.raises(DatasetError, match="no localizer epochs for class\\(es\\) zebra"):
        ChallengeDataset(fresh_foreign_root).load("sub-40")


def test_fingerprint_changes_with_content(fresh_foreign_root):
    before = ChallengeDataset(fresh_foreign_root).fingerprint()
    assert ChallengeDataset(fresh_foreign_root).fingerprint() == before
    csv = layout.localizer_labels_file(_subject_dir(fresh_foreign_root, "sub-40"), "sub-40")
    csv.write_text(csv.read_text().replace("localizer", "Localizer", 1))
    assert ChallengeDataset(fresh_foreign_root).fingerprint() != before


def test_array_cache_serves_same_data_and_invalidates(fresh_foreign_root, tmp_path):
    cache = tmp_path / "arrays"
    cold = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    assert len(list(cache.iterdir())) == 1
    warm = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    assert isinstance(warm.localizer.X, np.memmap) and not warm.localizer.X.flags.writeable
    np.testing.assert_array_equal(warm.localizer.X, cold.localizer.X)
    np.testing.assert_array_equal(warm.imagine.X, cold.imagine.X)
    np.testing.assert_array_equal(warm.localizer_labels, cold.localizer_labels)
    assert (warm.localizer.ch_names, warm.localizer.baseline) == (
        cold.localizer.ch_names,
        cold.localizer.baseline,
    )
    # changing a file changes the key: the new content is read, not the stale entry
    fname = layout.localizer_epochs_file(_subject_dir(fresh_foreign_root, "sub-02"), "sub-02")

    def double(epochs):
        epochs._data *= 2
        return epochs

    _rewrite(fname, double)
    changed = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    np.testing.assert_allclose(changed.localizer.X, 2 * cold.localizer.X, rtol=1e-6)
    assert len(list(cache.iterdir())) == 2


def test_a_same_size_edit_of_a_cached_array_is_seen(fresh_foreign_root, tmp_path, caplog):
    """An in-place write into a cached .npy (a memory-mapped write keeps its size) is never served."""
    import logging

    cache = tmp_path / "arrays"
    truth = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    (entry,) = cache.iterdir()
    edited = np.load(entry / "localizer_X.npy", mmap_mode="r+")
    edited[0, 0, 0] += 1e-9
    edited.flush()
    del edited
    with caplog.at_level(logging.WARNING, logger="datasets.cache"):
        again = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    assert "localizer_X.npy changed since it was written" in caplog.text
    np.testing.assert_array_equal(again.localizer.X, truth.localizer.X)
    # the entry was rewritten from the FIF files: the next load is served from it, silently
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="datasets.cache"):
        ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    assert "changed since" not in caplog.text


def test_two_datasets_sharing_the_cache_name_their_own_files(fresh_foreign_root, tmp_path):
    import shutil

    cache = tmp_path / "arrays"
    copy = tmp_path / "copy"
    shutil.copytree(fresh_foreign_root, copy)  # same content and times: the same cache entries
    ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    data = ChallengeDataset(copy, cache_dir=cache).load("sub-02")
    assert len(list(cache.iterdir())) == 1, "the copy was not served from the shared entry"
    for block in (data.localizer, data.imagine):
        assert block.source.is_relative_to(copy), block.source
