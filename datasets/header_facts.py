"""Header facts compared across subjects: sampling rate, time axis, MEG channels; their texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from datasets.records import Block, FileHeader

#: Facts compared across subjects: (description, attribute of FileHeader).
FACTS: tuple[tuple[str, str], ...] = (
    ("sampling rate", "sfreq"),
    ("time axis", "times"),
    ("MEG channels", "ch_names"),
)


KINDS = ("localizer", "imagine")


def fact_key(attr: str, value) -> tuple:
    """Hashable, tolerance-free summary of one header fact (for counting agreement)."""
    if attr == "sfreq":
        return (round(float(value), 6),)
    if attr == "times":
        return (int(value.size), round(float(value[0]), 6), round(float(value[-1]), 6))
    return tuple(value)


def fact_text(attr: str, value) -> str:
    """Text of one header fact for an error message."""
    if attr == "sfreq":
        return f"{float(value)} Hz"
    if attr == "times":
        return f"{value[0]:.3f}..{value[-1]:.3f} s ({value.size} samples)"
    return f"{len(value)} channels"


def subject_list(subjects: Sequence[str], limit: int = 5) -> str:
    """``sub-01, sub-02 and 3 more``: at most ``limit`` names."""
    shown = ", ".join(subjects[:limit])
    return shown + (f" and {len(subjects) - limit} more" if len(subjects) > limit else "")


@dataclass(frozen=True)
class Reference:
    """For each (kind, fact): the value most compared subjects share, or None on a tie."""

    values: dict  # (kind, attr) -> FileHeader attribute value, or None on a tie
    holders: dict  # (kind, attr) -> subjects holding that value (the groups, on a tie)
    compared: tuple[str, ...]


def block_header(block: Block) -> FileHeader:
    """Return the header facts of a block read before (from a file or the cache)."""
    return FileHeader(block.source, block.sfreq, np.asarray(block.times), block.ch_names)


def fact_equal(attr: str, found, expected, sfreq: float) -> bool:
    """Whether a fact equals the reference (times within half a sample)."""
    if attr == "sfreq":
        return bool(np.isclose(float(found), float(expected)))
    if attr == "times":
        return found.shape == expected.shape and bool(np.allclose(found, expected, atol=0.5 / sfreq))
    return tuple(found) == tuple(expected)


def describe_difference(expected: tuple[str, ...], found: tuple[str, ...]) -> str:
    """Which channels are missing or extra (or only reordered)."""
    missing = [c for c in expected if c not in set(found)]
    extra = [c for c in found if c not in set(expected)]
    if not missing and not extra:
        return "same channels in a different order"
    return f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, extra {extra[:5]}" + (
        "..." if len(extra) > 5 else ""
    )
