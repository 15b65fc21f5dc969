"""Reading one subject's files: an epochs file into a checked block, a labels CSV into item names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from datasets import layout
from datasets.errors import DatasetError
from datasets.records import Block

_VECTORVIEW_NAME = re.compile(r"^MEG (\d{4})$")


def warm_imports() -> None:
    """Import the MNE modules reading epochs loads lazily (before forking readers: once, not per process)."""
    import mne.epochs  # noqa: F401


def read_epochs(fname: Path, *, preload: bool):
    """Read an epochs file; :class:`DatasetError` naming it when missing, unreadable or empty."""
    import mne

    if not fname.is_file():
        raise DatasetError(f"Missing epochs file {fname}.")
    try:
        epochs = mne.read_epochs(fname, preload=preload, verbose="error")
    except Exception as exc:  # mne raises many types on a corrupted file
        raise DatasetError(
            f"Cannot read {fname} as MNE epochs ({type(exc).__name__}: {exc}). "
            "The file may be truncated or corrupted; download or copy it again."
        ) from exc
    if len(epochs.events) == 0:
        raise DatasetError(
            f"{fname} holds no epochs (0 events; its drop log says why they were dropped): "
            "every subject needs localizer and imagine epochs."
        )
    return epochs


def event_names(epochs, fname: Path) -> list[str]:
    """Event name of every epoch, in file order; an unknown code or name is an error naming the file."""
    code_to_name = {code: name for name, code in epochs.event_id.items()}
    try:
        names = [code_to_name[code] for code in epochs.events[:, 2]]
    except KeyError as exc:
        raise DatasetError(f"{fname}: event code {exc.args[0]} is not in its event_id.") from None
    unexpected = sorted(
        {n for n in names if n not in layout.EVENT_ID and not n.startswith(layout.UNKNOWN_PREFIX)}
    )
    if unexpected:
        raise DatasetError(
            f"{fname}: unknown event name(s) {unexpected}; expected item names "
            f"({', '.join(layout.CLASS_NAMES)}) or '{layout.UNKNOWN_PREFIX}<i>'."
        )
    return names


def meg_names(info) -> list[str]:
    """Names of the MEG channels of ``info`` (reference channels excluded)."""
    import mne

    return [info["ch_names"][i] for i in mne.pick_types(info, meg=True, ref_meg=False, exclude=[])]


def normalise_names(names: list[str]) -> list[str]:
    """Map Vectorview-style ``MEG 0113`` names to TRIUX-style ``MEG0113``."""
    return [_VECTORVIEW_NAME.sub(r"MEG\1", name) for name in names]


def idx_text(values, limit: int = 10) -> str:
    """``1, 4, 9`` (at most ``limit`` values, then ``... (n in all)``)."""
    values = [int(v) for v in values]
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def range_text(values: pd.Series) -> str:
    """``min..max`` of ``values``, or ``(none)``."""
    return f"{values.min()}..{values.max()}" if len(values) else "(none)"


# --------------------------------------------------------------- helpers
def read_block(fname: Path, kind: str) -> tuple[Block, list[str]]:
    """Read one epochs file (checked against the other subjects by the caller)."""
    epochs = read_epochs(fname, preload=True)
    names = event_names(epochs, fname)
    meg = epochs.pick("meg")
    X = meg.get_data().astype(np.float32)
    X.setflags(write=False)  # decoders must not modify their input
    if not np.isfinite(X).all():
        bad = ~np.isfinite(X)
        epochs_bad = np.flatnonzero(bad.any(axis=(1, 2)))
        first = epochs_bad[0]
        channel = meg.ch_names[int(np.flatnonzero(bad[first].any(axis=1))[0])]
        raise DatasetError(
            f"{fname}: {int(bad.sum())} NaN/inf samples in {epochs_bad.size} epoch(s), "
            f"trial_idx {idx_text(epochs_bad + 1)} (first: trial_idx {first + 1}, channel {channel}); "
            "the data must be finite."
        )
    baseline = None if meg.baseline is None else tuple(float(b) for b in meg.baseline)
    block = Block(
        X=X,
        times=meg.times.copy(),
        sfreq=float(epochs.info["sfreq"]),
        ch_names=tuple(normalise_names(meg.ch_names)),
        ch_types=tuple(meg.get_channel_types()),
        baseline=baseline,
        trial_idx=np.arange(1, len(X) + 1),
        source=fname,
    )
    return block, names


def read_labels(fname: Path, event_names: list[str], kind: str) -> np.ndarray:
    """Item names of a labels CSV, checked against the epochs file's events (every error names the file)."""
    if not fname.is_file():
        raise DatasetError(f"Missing labels file {fname} (expected beside the {kind} epochs).")
    try:
        frame = pd.read_csv(fname)
    except Exception as exc:  # pandas raises several unrelated types
        raise DatasetError(f"{fname}: not a readable CSV ({exc}).") from exc
    missing = [c for c in ("trial_idx", "label") if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{fname}: missing column(s) {missing}; expected columns {list(layout.LABEL_COLUMNS)}, "
            f"found {list(frame.columns)}."
        )
    frame = frame.sort_values("trial_idx")
    if len(frame) != len(event_names) or not np.array_equal(
        frame["trial_idx"].to_numpy(), np.arange(1, len(event_names) + 1)
    ):
        expected = set(range(1, len(event_names) + 1))
        found = frame["trial_idx"].tolist()
        missing = sorted(expected - set(found))
        extra = sorted({t for t in found if t not in expected})
        repeated = sorted({t for t in found if found.count(t) > 1})
        detail = "; ".join(
            f"{what} trial_idx {idx_text(values)}"
            for what, values in (("missing", missing), ("unexpected", extra), ("repeated", repeated))
            if values
        )
        raise DatasetError(
            f"{fname}: {len(frame)} rows with trial_idx {range_text(frame['trial_idx'])}, but the "
            f"{kind} epochs file has {len(event_names)} epochs; expected trial_idx 1..{len(event_names)}"
            + (f" ({detail})." if detail else ".")
        )
    labels = frame["label"].astype(str).to_numpy()
    unknown = sorted(set(labels) - set(layout.CLASS_NAMES))
    if unknown:
        where = frame["trial_idx"].to_numpy()[~np.isin(labels, layout.CLASS_NAMES)]
        raise DatasetError(
            f"{fname}: unknown item name(s) {unknown} at trial_idx {idx_text(where)}; "
            f"allowed: {', '.join(layout.CLASS_NAMES)}."
        )
    if not all(name.startswith(layout.UNKNOWN_PREFIX) for name in event_names):
        disagree = np.flatnonzero(labels != np.asarray(event_names))
        if disagree.size:
            i = int(disagree[0])
            raise DatasetError(
                f"{fname}: label of trial_idx {i + 1} is {labels[i]!r} but the epochs file's "
                f"event is {event_names[i]!r} ({disagree.size} disagreement(s) in all, at trial_idx "
                f"{idx_text(disagree + 1)})."
            )
    return labels
