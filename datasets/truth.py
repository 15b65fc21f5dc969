"""Ground truth of simulated datasets, for the oracle decoder and the sweep.

A dataset written by :mod:`datasets.simulate` has its truth in a folder
outside the dataset root (default: the sibling ``<root>-truth``). Real data
has none, and then every function here says so by returning None.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

METADATA_FILE = "simulation.json"
PATTERNS_DIR = "patterns"


def find_truth_dir(root: Path) -> Path | None:
    """Return the ground-truth folder of a simulated dataset at ``root``, or None."""
    root = Path(root).resolve()
    candidate = root.parent / f"{root.name}-truth"
    return candidate if (candidate / METADATA_FILE).is_file() else None


def load_subject_truth(truth_dir: Path, subject: str) -> dict[str, np.ndarray] | None:
    """Arrays of one subject's ground truth (patterns, time courses, onsets), or None."""
    path = Path(truth_dir) / PATTERNS_DIR / f"{subject}.npz"
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}
