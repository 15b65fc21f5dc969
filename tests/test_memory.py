"""Peak memory of a task: kernel peak RSS where available, tracemalloc otherwise."""

import sys

import numpy as np
import pytest

import benchmark.memory as memory
from benchmark.memory import PeakMemory

MB = 2**20


def _allocate_and_free(n_mb: int) -> None:
    block = np.ones(n_mb * MB // 8)
    block[::512] += 1.0  # touch every page
    del block


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS reset is a Linux interface")
def test_rss_peak_sees_a_freed_allocation_and_resets_between_blocks():
    with PeakMemory() as big:
        _allocate_and_free(300)
    assert big.method == "rss"
    assert 250 < big.peak_mb < 400
    with PeakMemory() as small:  # the earlier 300 MB peak must not leak into this block
        _allocate_and_free(50)
    assert small.method == "rss"
    assert 30 < small.peak_mb < 150


def test_falls_back_to_tracemalloc_without_the_proc_interface(monkeypatch, tmp_path):
    monkeypatch.setattr(memory, "_CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    with PeakMemory() as measured:
        _allocate_and_free(100)
    assert measured.method == "tracemalloc"
    assert 90 < measured.peak_mb < 150


def test_peak_is_recorded_when_the_block_raises():
    measured = PeakMemory()
    with pytest.raises(ValueError), measured:
        _allocate_and_free(50)
        raise ValueError("decoder failed")
    assert measured.peak_mb > 30
