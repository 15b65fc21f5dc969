"""Dataset-level checks: the odd subject out fails, whichever sorts first and whatever is cached."""

import json

import mne
import numpy as np
import pytest

from benchmark.config import RunConfig
from benchmark.errors import DatasetError
from benchmark.experiment import run_benchmark
from datasets import ChallengeDataset, layout
from tests.foreign_files import write_foreign_dataset


@pytest.fixture
def three_subjects(tmp_path):
    """sub-02, sub-03 (train) and sub-40 (test), small, flat layout."""
    return write_foreign_dataset(
        tmp_path / "imagine", n_train=2, n_test=1, nested=False, n_loc_per_class=4, n_img_per_class=2
    )


def _resample(root, subject, sfreq=50.0):
    folder = next(root.glob(f"*/{subject}"))
    for fname in (layout.localizer_epochs_file(folder, subject), layout.imagine_epochs_file(folder, subject)):
        epochs = mne.read_epochs(fname, preload=True, verbose="error").resample(sfreq, verbose="error")
        epochs.save(fname, overwrite=True, fmt="single", verbose="error")


def _run(root, out, **kwargs):
    config = RunConfig(data=root, out=out, decoders=("chance",), localizer_folds=0, progress=False, **kwargs)
    return {r["subject"]: r for r in run_benchmark(config).rows}


def test_first_subject_resampled_is_the_one_that_fails(three_subjects, tmp_path):
    _resample(three_subjects, "sub-02")  # the subject that sorts first
    rows = _run(three_subjects, tmp_path / "out")
    assert rows["sub-03"]["status"] == "ok" and rows["sub-40"]["status"] == "ok"
    assert rows["sub-02"]["status"] == "error"
    assert (
        "sub-02_localizer-epo.fif: sampling rate 50.0 Hz, but 2 of the 3 subjects compared"
        in (rows["sub-02"]["error"])
    )
    assert "(sub-03, sub-40) have 100.0 Hz" in rows["sub-02"]["error"]


def test_unrequested_folders_play_no_part(three_subjects, tmp_path):
    (three_subjects / "train" / "sub-01").mkdir()  # an empty folder, never asked for
    _resample(three_subjects, "sub-02")
    rows = _run(three_subjects, tmp_path / "out", subjects=("sub-02",))
    assert rows["sub-02"]["status"] == "ok"  # alone, sub-02 is its own norm
    dataset = ChallengeDataset(three_subjects)
    problems = dataset.set_reference(["sub-01", "sub-03", "sub-40"])
    assert list(problems) == ["sub-01"] and "Missing epochs file" in problems["sub-01"]
    assert dataset.load("sub-03").localizer.sfreq == 100.0


def test_array_cache_does_not_skip_the_checks(three_subjects, tmp_path):
    cache = tmp_path / "arrays"
    assert {r["status"] for r in _run(three_subjects, tmp_path / "clean", data_cache=cache).values()} == {
        "ok"
    }
    _resample(three_subjects, "sub-03")
    rows = _run(three_subjects, tmp_path / "out", data_cache=cache)
    assert rows["sub-02"]["status"] == rows["sub-40"]["status"] == "ok"  # both read from the cache
    assert rows["sub-03"]["status"] == "error" and "sampling rate 50.0 Hz" in rows["sub-03"]["error"]
    # the other way round: the cached subject is the odd one out, and its cached arrays are refused
    dataset = ChallengeDataset(three_subjects, cache_dir=cache)
    dataset.set_reference(["sub-03"])
    dataset.load("sub-03")  # fills the cache with the 50 Hz arrays
    _resample(three_subjects, "sub-02")
    _resample(three_subjects, "sub-40")
    dataset = ChallengeDataset(three_subjects, cache_dir=cache)
    problems = dataset.set_reference(dataset.subjects)
    assert set(problems) == set()  # now 50 Hz is the norm
    header = dataset.header("sub-03")
    assert header["localizer"].sfreq == 50.0


def test_cached_entry_is_checked_against_the_reference(three_subjects, tmp_path, monkeypatch):
    import datasets.reading as reading

    cache = tmp_path / "arrays"
    for subject in ("sub-02", "sub-03"):
        ChallengeDataset(three_subjects, cache_dir=cache).load(subject)
    _resample(three_subjects, "sub-40")
    _resample(three_subjects, "sub-03")  # sub-03's cache entry is now stale (100 Hz), never served
    dataset = ChallengeDataset(three_subjects, cache_dir=cache)
    problems = dataset.set_reference(dataset.subjects)
    assert list(problems) == ["sub-02"]

    def no_fif_reads(fname, **kwargs):
        raise AssertionError(f"{fname} was read although the cache holds it")

    monkeypatch.setattr(reading, "read_epochs", no_fif_reads)
    with pytest.raises(
        DatasetError, match="sub-02_localizer-epo.fif: sampling rate 100.0 Hz, but 2 of the 3"
    ):
        dataset.load("sub-02")  # served from the cache, and refused there


def test_fingerprint_sees_a_same_size_edit_in_the_middle(fresh_foreign_root):
    fname = layout.localizer_epochs_file(next(fresh_foreign_root.glob("*/sub-02")), "sub-02")
    before = ChallengeDataset(fresh_foreign_root).fingerprint()
    stat = fname.stat()
    with fname.open("r+b") as fh:  # 4 KiB of 0xff (NaN) where the data are, size unchanged
        fh.seek(stat.st_size // 2)
        fh.write(b"\xff" * 4096)
    assert fname.stat().st_size == stat.st_size
    assert ChallengeDataset(fresh_foreign_root).fingerprint() != before
    # even with the modification time put back, a sampled block sees an edit this size
    edited = ChallengeDataset(fresh_foreign_root).fingerprint()
    with fname.open("r+b") as fh:
        fh.seek(stat.st_size // 3)
        fh.write(b"\xff" * (stat.st_size // 60))
    import os

    os.utime(fname, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ChallengeDataset(fresh_foreign_root).fingerprint() not in (before, edited)


@pytest.mark.parametrize("content", [b"[]", b"\xff\xfe", b'{"arrays": ["localizer_X"]}'])
def test_damaged_array_cache_entry_is_ignored_and_rewritten(fresh_foreign_root, tmp_path, caplog, content):
    cache = tmp_path / "arrays"
    cold = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    (entry,) = list(cache.iterdir())
    (entry / "meta.json").write_bytes(content)
    again = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")  # read from the FIF files
    np.testing.assert_array_equal(again.localizer.X, cold.localizer.X)
    assert json.loads((entry / "meta.json").read_text())["imagine_events"]  # the entry was rewritten
    warm = ChallengeDataset(fresh_foreign_root, cache_dir=cache).load("sub-02")
    assert isinstance(warm.localizer.X, np.memmap)
    assert [p.name for p in cache.iterdir()] == [entry.name]  # nothing stale left beside it


def test_an_array_cache_entry_is_checked_once_until_a_file_of_it_changes(
    fresh_foreign_root, tmp_path, monkeypatch
):
    """A run loads a subject once per task: its CRCs are read once, and again after a file is rewritten."""
    from datasets import cache as cache_module

    folder = tmp_path / "arrays"
    ChallengeDataset(fresh_foreign_root, cache_dir=folder).load("sub-02")  # writes the entry
    calls = []
    real = cache_module.checksum
    monkeypatch.setattr(cache_module, "checksum", lambda array: calls.append(1) or real(array))
    dataset = ChallengeDataset(fresh_foreign_root, cache_dir=folder)
    first = dataset.load("sub-02")
    n_arrays = len(calls)
    assert n_arrays >= 6 and isinstance(first.localizer.X, np.memmap)
    expected = np.array(first.localizer.X)  # a copy: the memory map would show the damage below
    dataset.load("sub-02")
    assert len(calls) == n_arrays  # unchanged entry: not read whole again
    (entry,) = list(folder.iterdir())
    target = entry / "localizer_X.npy"
    data = bytearray(target.read_bytes())
    data[-100:] = b"\x01" * 100  # same size, new content (and modification time)
    target.write_bytes(bytes(data))
    again = dataset.load("sub-02")  # checked again: the damage is found and the FIF files are read
    assert len(calls) > n_arrays
    np.testing.assert_array_equal(again.localizer.X, expected)


def test_fill_cache_reads_every_subject_in_forked_processes_into_the_cache(
    three_subjects, tmp_path, monkeypatch
):
    """After ``fill_cache``, loads read the memory maps (no FIF read here) and give the FIF's arrays."""
    from datasets import reading
    from datasets.parallel import fill_cache

    folder = tmp_path / "arrays"
    fresh = {s: ChallengeDataset(three_subjects).load(s) for s in ("sub-02", "sub-03", "sub-40")}
    fill_cache(three_subjects, folder, n_jobs=2)
    assert len(list(folder.iterdir())) == 3
    monkeypatch.setattr(
        reading, "read_block", lambda *a, **k: pytest.fail("read a FIF file after fill_cache")
    )
    dataset = ChallengeDataset(three_subjects, cache_dir=folder)
    for subject, data in fresh.items():
        cached = dataset.load(subject)
        assert isinstance(cached.localizer.X, np.memmap)
        np.testing.assert_allclose(cached.localizer.X, data.localizer.X, rtol=1e-6)
        np.testing.assert_allclose(cached.imagine.X, data.imagine.X, rtol=1e-6)


def test_fill_cache_with_one_job_leaves_the_cache_to_the_loads(three_subjects, tmp_path):
    from datasets.parallel import fill_cache

    fill_cache(three_subjects, tmp_path / "arrays", n_jobs=1)
    assert not (tmp_path / "arrays").exists()
