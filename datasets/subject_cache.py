"""A subject's data as an array-cache entry and back (the entry is keyed by the files' content)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets import layout
from datasets.records import Block, SubjectData, SubjectRef

KINDS = ("localizer", "imagine")


BLOCK_META = ("sfreq", "ch_names", "ch_types", "baseline")


ARRAYS = tuple(f"{kind}_{name}" for kind in KINDS for name in ("X", "times", "trial_idx"))


def source_files(ref: SubjectRef, subject: str) -> list[Path]:
    """Return the files whose content a subject's cache entry is keyed by."""
    return [
        layout.localizer_epochs_file(ref.path, subject),
        layout.localizer_labels_file(ref.path, subject),
        layout.imagine_epochs_file(ref.path, subject),
    ]


def valid_cache_meta(meta) -> bool:
    """Return True if a cache entry's ``meta.json`` has every field :func:`from_cache` reads."""
    try:
        return (
            isinstance(meta.get("imagine_events"), list)
            and isinstance(meta.get("localizer_labels"), list)
            and set(ARRAYS) <= set(meta.get("arrays", ()))
            and all(set(BLOCK_META) | {"source"} <= set(meta[kind]) for kind in KINDS)
        )
    except (AttributeError, KeyError, TypeError):
        return False


def to_cache(data: SubjectData) -> tuple[dict[str, np.ndarray], dict]:
    """Return a subject's data as cache arrays and JSON metadata."""
    arrays, meta = {}, {"localizer_labels": data.localizer_labels.tolist()}
    for kind in ("localizer", "imagine"):
        block: Block = getattr(data, kind)
        arrays.update(
            {f"{kind}_X": block.X, f"{kind}_times": block.times, f"{kind}_trial_idx": block.trial_idx}
        )
        meta[kind] = {**{k: getattr(block, k) for k in BLOCK_META}, "source": str(block.source)}
    return arrays, meta


def from_cache(subject: str, ref: SubjectRef, arrays: dict[str, np.ndarray], meta: dict) -> SubjectData:
    """Rebuild a subject's data from a cache entry; its files are this dataset's (never the entry's).

    An entry is keyed by the files' content, so another dataset holding the
    same files (a copy) shares it: the ``source`` recorded in the entry may
    be that dataset's file, so errors name ``ref``'s files instead.
    """
    sources = {
        "localizer": layout.localizer_epochs_file(ref.path, subject),
        "imagine": layout.imagine_epochs_file(ref.path, subject),
    }
    split = ref.split
    blocks = {}
    for kind in ("localizer", "imagine"):
        info = meta[kind]
        blocks[kind] = Block(
            X=arrays[f"{kind}_X"],
            times=np.asarray(arrays[f"{kind}_times"]),
            sfreq=float(info["sfreq"]),
            ch_names=tuple(info["ch_names"]),
            ch_types=tuple(info["ch_types"]),
            baseline=None if info["baseline"] is None else tuple(info["baseline"]),
            trial_idx=np.asarray(arrays[f"{kind}_trial_idx"]),
            source=sources[kind],
        )
    labels = np.asarray(meta["localizer_labels"])
    return SubjectData(subject, split, blocks["localizer"], labels, blocks["imagine"])
