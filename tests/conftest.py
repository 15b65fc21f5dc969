"""Shared fixtures: a small dataset in the official layout (``tests/foreign_files.py``).

The files are made the way the organisers' script makes them (``mne.EpochsArray``
with MNE's default baseline, Vectorview-style ``MEG 0113`` names, Kaggle's
nested ``train/train`` folders), independently of ``datasets.simulate``, so the
adapter is tested on data the project did not generate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.foreign_files import write_foreign_dataset


@pytest.fixture(scope="session")
def foreign_root(tmp_path_factory) -> Path:
    """A read-only-by-convention small dataset (2 train + 1 test, nested layout)."""
    return write_foreign_dataset(tmp_path_factory.mktemp("foreign") / "imagine")


@pytest.fixture
def fresh_foreign_root(tmp_path) -> Path:
    """A small dataset a test may modify (1 train + 1 test, flat layout)."""
    return write_foreign_dataset(tmp_path / "imagine", n_train=1, n_test=1, nested=False)
