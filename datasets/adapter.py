"""Reader of the IMAGINE challenge's official layout.

One adapter serves every caller: the runner, the scorer, the Kaggle export and
the tests. It is lazy (one subject at a time, never the whole dataset in
memory) and validates every file it reads, raising
:class:`~benchmark.errors.DatasetError` with the file's path, what was
expected and what was found.

Decoders never see this object. The runner hands them arrays taken from
:class:`SubjectData`, which holds no imagine label; imagine labels of train
subjects are reachable only through :meth:`ChallengeDataset.imagine_labels`,
which the scoring side calls.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.errors import DatasetError
from datasets import layout
from datasets.cache import ArrayCache, files_key

logger = logging.getLogger(__name__)

_SUBJECT_RE = re.compile(r"^sub-[A-Za-z0-9]+$")
_VECTORVIEW_NAME = re.compile(r"^MEG (\d{4})$")


@dataclass(frozen=True)
class SubjectRef:
    """Where one subject's files are.

    Attributes
    ----------
    name : str
        Subject identifier such as ``"sub-02"``.
    split : str
        ``"train"`` (imagine labels available for scoring) or ``"test"``.
    path : Path
        The subject's folder.
    """

    name: str
    split: str
    path: Path


@dataclass(frozen=True, eq=False)
class Block:
    """One block of epochs (localizer or imagine), MEG channels only.

    Attributes
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times), float32
        MEG data in the file's units (T for magnetometers, T/m for gradiometers).
    times : ndarray, shape (n_times,)
        Time of each sample in seconds relative to the event.
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        MEG channel names, normalised to the ``MEG0113`` style.
    ch_types : tuple of str
        ``"mag"`` or ``"grad"`` per channel.
    baseline : tuple of float or None
        The baseline interval recorded in the file (``epochs.baseline``).
    trial_idx : ndarray of int, shape (n_epochs,)
        1-based position of each epoch in the file (the Kaggle ``trial_idx``).
    source : Path
        The ``-epo.fif`` the block was read from.
    """

    X: np.ndarray
    times: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    baseline: tuple[float, float] | None
    trial_idx: np.ndarray
    source: Path


@dataclass(frozen=True, eq=False)
class SubjectData:
    """Everything a decoder may learn from for one subject.

    Attributes
    ----------
    subject : str
        Subject identifier.
    split : str
        ``"train"`` or ``"test"``.
    localizer : Block
        Localizer epochs.
    localizer_labels : ndarray of str, shape (n_localizer_epochs,)
        Item name of each localizer epoch.
    imagine : Block
        Imagine epochs, without labels.
    """

    subject: str
    split: str
    localizer: Block
    localizer_labels: np.ndarray
    imagine: Block


@dataclass(frozen=True)
class _Reference:
    sfreq: float
    localizer_times: np.ndarray
    imagine_times: np.ndarray
    ch_names: tuple[str, ...]
    source: str


class ChallengeDataset:
    """The IMAGINE challenge data in its official folder layout.

    Parameters
    ----------
    root : str or Path
        Folder holding ``train/`` and ``test/`` (also accepted: the Kaggle
        unpacking ``train/train/sub-XX`` and ``test/test/sub-XX``).
    name : str
        Label of the dataset in reports.
    cache_dir : Path or None
        Folder of a float32 memory-mapped cache of validated subject data
        (see :mod:`datasets.cache`); None reads the FIF files every time.

    Raises
    ------
    DatasetError
        If ``root`` does not exist or holds no ``sub-XX`` folder.
    """

    def __init__(self, root: str | Path, name: str | None = None, cache_dir: Path | None = None) -> None:
        self.root = Path(root).expanduser()
        self.cache = ArrayCache(Path(cache_dir)) if cache_dir is not None else None
        if not self.root.is_dir():
            raise DatasetError(
                f"Dataset folder {self.root} does not exist. Expected a folder with "
                "train/ and test/ subfolders in the IMAGINE challenge layout."
            )
        self.name = name or self.root.name
        self._refs = self._discover()
        if not self._refs:
            raise DatasetError(
                f"No subject folders found under {self.root}. Expected "
                f"{self.root}/train/sub-XX/ and/or {self.root}/test/sub-XX/ "
                "(or train/train/sub-XX as a Kaggle download unpacks)."
            )

    def __repr__(self) -> str:
        n_train = len(self.subjects_in("train"))
        n_test = len(self.subjects_in("test"))
        return f"ChallengeDataset({str(self.root)!r}, train={n_train}, test={n_test})"

    # ------------------------------------------------------------------ layout
    def _split_dir(self, split: str) -> Path | None:
        for candidate in (self.root / split / split, self.root / split):
            if candidate.is_dir() and any(
                _SUBJECT_RE.match(p.name) for p in candidate.iterdir() if p.is_dir()
            ):
                return candidate
        return None

    def _discover(self) -> dict[str, SubjectRef]:
        refs: dict[str, SubjectRef] = {}
        for split in layout.SPLITS:
            split_dir = self._split_dir(split)
            if split_dir is None:
                continue
            for path in sorted(split_dir.iterdir()):
                if path.is_dir() and _SUBJECT_RE.match(path.name):
                    if path.name in refs:
                        raise DatasetError(
                            f"Subject {path.name} appears in both {refs[path.name].path} "
                            f"and {path}; a subject belongs to one split."
                        )
                    refs[path.name] = SubjectRef(path.name, split, path)
        return refs

    @property
    def subjects(self) -> list[str]:
        """All subject names, train first, each split sorted."""
        return [r.name for r in sorted(self._refs.values(), key=lambda r: (r.split != "train", r.name))]

    def subjects_in(self, split: str) -> list[str]:
        """Subject names of one split (``"train"`` or ``"test"``)."""
        if split not in layout.SPLITS:
            raise ValueError(f"split must be one of {layout.SPLITS}, got {split!r}")
        return [name for name in self.subjects if self._refs[name].split == split]

    def ref(self, subject: str) -> SubjectRef:
        """Return where ``subject``'s files are; :class:`DatasetError` if unknown."""
        try:
            return self._refs[subject]
        except KeyError:
            raise DatasetError(
                f"Unknown subject {subject!r} in {self.root}; available: {', '.join(self.subjects)}"
            ) from None

    # ------------------------------------------------------------- reference
    @cached_property
    def _reference(self) -> _Reference:
        """Time axes and channels of the first subject, against which all are checked."""
        first = self.ref(self.subjects[0])
        loc = _read_epochs(layout.localizer_epochs_file(first.path, first.name), preload=False)
        img = _read_epochs(layout.imagine_epochs_file(first.path, first.name), preload=False)
        return _Reference(
            sfreq=float(loc.info["sfreq"]),
            localizer_times=loc.times.copy(),
            imagine_times=img.times.copy(),
            ch_names=tuple(_normalise_names(_meg_names(loc.info))),
            source=first.name,
        )

    def reference_header(self) -> tuple[float, np.ndarray, np.ndarray, tuple[str, ...]]:
        """Return the sampling rate, time axes and MEG channels every subject must match.

        Read once from the first subject's files (headers only) and cached on
        this object.
        """
        ref = self._reference
        return ref.sfreq, ref.localizer_times, ref.imagine_times, ref.ch_names

    # ------------------------------------------------------------------ reads
    def load(self, subject: str) -> SubjectData:
        """Read and validate one subject's localizer and imagine epochs.

        Parameters
        ----------
        subject : str
            Subject name, e.g. ``"sub-02"``.

        Returns
        -------
        SubjectData
            Arrays and labels a decoder may use (no imagine labels).

        Raises
        ------
        DatasetError
            On any missing, unreadable or inconsistent file.
        """
        return self._load(subject)[0]

    def _load(self, subject: str) -> tuple[SubjectData, list[str]]:
        """Return the subject's data and its imagine event names (from the array cache if stored)."""
        ref = self.ref(subject)
        loc_file = layout.localizer_epochs_file(ref.path, subject)
        img_file = layout.imagine_epochs_file(ref.path, subject)
        sources = [loc_file, layout.localizer_labels_file(ref.path, subject), img_file]
        key = None
        if self.cache is not None and all(p.is_file() for p in sources):
            key = files_key(sources)
            hit = self.cache.load(key)
            if hit is not None and "imagine_events" in hit[1]:
                return _from_cache(subject, ref.split, *hit), list(hit[1]["imagine_events"])
        data, imagine_events = self._load_files(subject, ref, loc_file, img_file)
        if key is not None:
            arrays, meta = _to_cache(data)
            # kept beside the arrays for scoring only: SubjectData never carries them
            self.cache.save(key, arrays, {**meta, "imagine_events": imagine_events})
        return data, imagine_events

    def _load_files(
        self, subject: str, ref: SubjectRef, loc_file: Path, img_file: Path
    ) -> tuple[SubjectData, list[str]]:
        localizer, loc_names = self._read_block(loc_file, "localizer")
        labels = self._read_labels(layout.localizer_labels_file(ref.path, subject), loc_names, "localizer")
        counts = pd.Series(labels).value_counts()
        empty = [c for c in layout.CLASS_NAMES if counts.get(c, 0) == 0]
        if empty:
            raise DatasetError(
                f"{loc_file}: no localizer epochs for class(es) {', '.join(empty)}; "
                "every item needs localizer trials to train a decoder."
            )
        imagine, imagine_events = self._read_block(img_file, "imagine")
        if imagine.ch_names != localizer.ch_names:
            raise DatasetError(
                f"{img_file}: MEG channels differ from {loc_file.name} "
                f"({_describe_difference(localizer.ch_names, imagine.ch_names)})."
            )
        return SubjectData(subject, ref.split, localizer, labels, imagine), imagine_events

    def imagine_labels(self, subject: str) -> np.ndarray:
        """Imagine labels of a train subject, for scoring only.

        Parameters
        ----------
        subject : str
            A train subject.

        Returns
        -------
        ndarray of str, shape (n_imagine_epochs,)
            Item name of each imagine epoch, in file order.

        Raises
        ------
        DatasetError
            If the subject is a test subject or its labels file is missing or
            disagrees with the imagine epochs' events.
        """
        ref = self.ref(subject)
        if ref.split != "train":
            raise DatasetError(
                f"{subject} is a {ref.split} subject: its imagine labels are not in the dataset."
            )
        if self.cache is not None:  # the event names were stored with the arrays
            names = self._load(subject)[1]
        else:
            img_file = layout.imagine_epochs_file(ref.path, subject)
            names = _event_names(_read_epochs(img_file, preload=False), img_file)
        return self._read_labels(layout.imagine_labels_file(ref.path, subject), names, "imagine")

    def imagine_class_counts(self, subject: str) -> np.ndarray:
        """Count the imagine epochs per class (``CLASS_NAMES`` order), for scoring."""
        labels = self.imagine_labels(subject)
        return np.array([(labels == c).sum() for c in layout.CLASS_NAMES], dtype=int)

    def fingerprint(self) -> str:
        """Return a short content fingerprint of the dataset's files.

        Hashes each file's relative path, size and first 64 KiB, which changes
        whenever a file is replaced, without reading gigabytes.
        """
        digest = hashlib.sha256()
        for name in self.subjects:
            for path in sorted(self.ref(name).path.iterdir()):
                if not path.is_file():
                    continue
                digest.update(str(path.relative_to(self.root)).encode())
                digest.update(str(path.stat().st_size).encode())
                with path.open("rb") as fh:
                    digest.update(fh.read(65536))
        return digest.hexdigest()[:16]

    # --------------------------------------------------------------- helpers
    def _read_block(self, fname: Path, kind: str) -> tuple[Block, list[str]]:
        epochs = _read_epochs(fname, preload=True)
        names = _event_names(epochs, fname)
        reference = self._reference
        sfreq = float(epochs.info["sfreq"])
        if not np.isclose(sfreq, reference.sfreq):
            raise DatasetError(
                f"{fname}: sampling rate {sfreq} Hz, but {reference.source} has "
                f"{reference.sfreq} Hz; all subjects must share one sampling rate."
            )
        expected_times = reference.localizer_times if kind == "localizer" else reference.imagine_times
        if epochs.times.shape != expected_times.shape or not np.allclose(
            epochs.times, expected_times, atol=0.5 / sfreq
        ):
            raise DatasetError(
                f"{fname}: time axis {epochs.times[0]:.3f}..{epochs.times[-1]:.3f} s "
                f"({epochs.times.size} samples), but {reference.source}'s {kind} epochs span "
                f"{expected_times[0]:.3f}..{expected_times[-1]:.3f} s ({expected_times.size} samples)."
            )
        meg = epochs.pick("meg")
        ch_names = tuple(_normalise_names(meg.ch_names))
        if ch_names != reference.ch_names:
            raise DatasetError(
                f"{fname}: MEG channels differ from {reference.source}'s "
                f"({_describe_difference(reference.ch_names, ch_names)})."
            )
        X = meg.get_data().astype(np.float32)
        X.setflags(write=False)  # decoders must not modify their input
        if not np.isfinite(X).all():
            bad = ~np.isfinite(X)
            raise DatasetError(
                f"{fname}: {int(bad.sum())} NaN/inf samples in "
                f"{int(bad.any(axis=(1, 2)).sum())} epoch(s); the data must be finite."
            )
        baseline = None if meg.baseline is None else tuple(float(b) for b in meg.baseline)
        block = Block(
            X=X,
            times=meg.times.copy(),
            sfreq=sfreq,
            ch_names=ch_names,
            ch_types=tuple(meg.get_channel_types()),
            baseline=baseline,
            trial_idx=np.arange(1, len(X) + 1),
            source=fname,
        )
        return block, names

    def _read_labels(self, fname: Path, event_names: list[str], kind: str) -> np.ndarray:
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
            raise DatasetError(
                f"{fname}: {len(frame)} rows with trial_idx {_range_text(frame['trial_idx'])}, but the "
                f"{kind} epochs file has {len(event_names)} epochs; expected trial_idx 1..{len(event_names)}."
            )
        labels = frame["label"].astype(str).to_numpy()
        unknown = sorted(set(labels) - set(layout.CLASS_NAMES))
        if unknown:
            raise DatasetError(
                f"{fname}: unknown item name(s) {unknown}; allowed: {', '.join(layout.CLASS_NAMES)}."
            )
        if not all(name.startswith(layout.UNKNOWN_PREFIX) for name in event_names):
            disagree = np.flatnonzero(labels != np.asarray(event_names))
            if disagree.size:
                i = int(disagree[0])
                raise DatasetError(
                    f"{fname}: label of trial_idx {i + 1} is {labels[i]!r} but the epochs file's "
                    f"event is {event_names[i]!r} ({disagree.size} disagreement(s) in all)."
                )
        return labels


_BLOCK_META = ("sfreq", "ch_names", "ch_types", "baseline")


def _to_cache(data: SubjectData) -> tuple[dict[str, np.ndarray], dict]:
    arrays, meta = {}, {"localizer_labels": data.localizer_labels.tolist()}
    for kind in ("localizer", "imagine"):
        block: Block = getattr(data, kind)
        arrays.update(
            {f"{kind}_X": block.X, f"{kind}_times": block.times, f"{kind}_trial_idx": block.trial_idx}
        )
        meta[kind] = {**{k: getattr(block, k) for k in _BLOCK_META}, "source": str(block.source)}
    return arrays, meta


def _from_cache(subject: str, split: str, arrays: dict[str, np.ndarray], meta: dict) -> SubjectData:
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
            source=Path(info["source"]),
        )
    labels = np.asarray(meta["localizer_labels"])
    return SubjectData(subject, split, blocks["localizer"], labels, blocks["imagine"])


def _read_epochs(fname: Path, *, preload: bool):
    import mne

    if not fname.is_file():
        raise DatasetError(f"Missing epochs file {fname}.")
    try:
        return mne.read_epochs(fname, preload=preload, verbose="error")
    except Exception as exc:  # mne raises many types on a corrupted file
        raise DatasetError(
            f"Cannot read {fname} as MNE epochs ({type(exc).__name__}: {exc}). "
            "The file may be truncated or corrupted; download or copy it again."
        ) from exc


def _event_names(epochs, fname: Path) -> list[str]:
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


def _meg_names(info) -> list[str]:
    import mne

    return [info["ch_names"][i] for i in mne.pick_types(info, meg=True, ref_meg=False, exclude=[])]


def _normalise_names(names: list[str]) -> list[str]:
    """Map Vectorview-style ``MEG 0113`` names to TRIUX-style ``MEG0113``."""
    return [_VECTORVIEW_NAME.sub(r"MEG\1", name) for name in names]


def _describe_difference(expected: tuple[str, ...], found: tuple[str, ...]) -> str:
    missing = [c for c in expected if c not in set(found)]
    extra = [c for c in found if c not in set(expected)]
    if not missing and not extra:
        return "same channels in a different order"
    return f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, extra {extra[:5]}" + (
        "..." if len(extra) > 5 else ""
    )


def _range_text(values: pd.Series) -> str:
    return f"{values.min()}..{values.max()}" if len(values) else "(none)"
