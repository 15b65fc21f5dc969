"""Timing: loading one full-size subject, cold (FIF files) and warm (array cache).

The data is the profile's simulated dataset (2 train + 1 test full-size
subjects, generated once into ``$IMAGINE_BENCH_HOME``); the first train
subject is timed. Nothing asserts on time: pytest-benchmark records the
timings (``tox -e bench`` -> ``reports/runtime.json``) and
``python -m tools profile`` checks the ratio against issue #6's target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def root() -> Path:
    """The simulated dataset shared with ``python -m tools profile``."""
    from tools.profile import profile_dataset

    return profile_dataset(quick=False)


@pytest.fixture(scope="module")
def subject(root) -> str:
    from datasets.adapter import ChallengeDataset

    return ChallengeDataset(root).subjects_in("train")[0]


def _touch(data) -> float:
    """Read every sample once, so a memory map costs what reading it costs."""
    localizer, imagine = np.asarray(data.localizer.X), np.asarray(data.imagine.X)
    return float(localizer.sum(dtype=np.float64) + imagine.sum(dtype=np.float64))


def _dataset(root, cache_dir=None):
    from datasets.adapter import ChallengeDataset

    dataset = ChallengeDataset(root, cache_dir=cache_dir)
    dataset.reference_header()  # read once per run by the runner's warm-up, not per task
    return dataset


def test_bench_mne_read_epochs(benchmark, root, subject):
    """Reference: ``mne.read_epochs(preload=True)`` of the localizer and imagine files."""
    import mne

    from datasets import layout

    folder = _dataset(root).ref(subject).path
    files = [layout.localizer_epochs_file(folder, subject), layout.imagine_epochs_file(folder, subject)]

    def run():
        return [mne.read_epochs(f, preload=True, verbose="error") for f in files]

    epochs = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["localizer_shape"] = list(epochs[0].get_data().shape)
    benchmark.extra_info["megabytes"] = round(sum(f.stat().st_size for f in files) / 2**20, 1)


def test_bench_load_without_cache(benchmark, root, subject):
    """``ChallengeDataset.load`` with no array cache: FIF read + validation, every time."""
    dataset = _dataset(root)
    benchmark.pedantic(lambda: _touch(dataset.load(subject)), rounds=3, iterations=1)


def test_bench_load_cold(benchmark, root, subject, tmp_path):
    """First load with an (empty) array cache: FIF read + validation + cache write."""
    counter = iter(range(100))

    def setup():
        return (_dataset(root, tmp_path / f"cache-{next(counter)}"),), {}

    benchmark.pedantic(lambda dataset: _touch(dataset.load(subject)), setup=setup, rounds=3, iterations=1)


def test_bench_load_warm(benchmark, root, subject, tmp_path):
    """Second load: memory-mapped array cache, every sample read once."""
    dataset = _dataset(root, tmp_path / "cache")
    dataset.load(subject)  # fills the cache
    data = benchmark.pedantic(lambda: dataset.load(subject), rounds=5, iterations=1, warmup_rounds=1)
    assert isinstance(data.localizer.X, np.memmap), "the second load should come from the array cache"
    benchmark.extra_info["localizer_shape"] = list(data.localizer.X.shape)


def test_bench_load_warm_touch(benchmark, root, subject, tmp_path):
    """Second load plus reading every sample (what a decoder then does)."""
    dataset = _dataset(root, tmp_path / "cache")
    dataset.load(subject)
    benchmark.pedantic(lambda: _touch(dataset.load(subject)), rounds=5, iterations=1, warmup_rounds=1)
