"""Chance levels, exactness limits and seeds shared by the statistics modules."""

from __future__ import annotations

import zlib

import numpy as np

#: Chance level of each per-subject metric with ten balanced classes.
CHANCE_LEVELS: dict[str, float] = {"imagine_accuracy": 0.10, "balanced_accuracy": 0.10, "top3": 0.30}

#: Largest number of subjects for which the sign-flip test enumerates all 2**n flips.
MAX_EXACT_SIGN_FLIP = 20

#: Largest number of trials for which the label permutation test enumerates all arrangements.
MAX_EXACT_TRIALS = 8

#: Tolerance of float comparisons between permuted and observed statistics.
TOL = 1e-12


def derive_seed(seed: int, *keys: str) -> np.random.SeedSequence:
    """Build a seed sequence from the run seed and names (stable across processes)."""
    return np.random.SeedSequence([int(seed) % 2**32, *(zlib.crc32(k.encode()) for k in keys)])
