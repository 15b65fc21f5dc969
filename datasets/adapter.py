"""Reader of the IMAGINE challenge's official layout.

One adapter serves every caller: the runner, the scorer, the Kaggle export and
the tests. It is lazy (one subject at a time, never the whole dataset in
memory) and validates every file it reads, raising
:class:`~datasets.errors.DatasetError` with the file's path, what was
expected and what was found.

Decoders never see this object. The runner hands them arrays taken from
:class:`SubjectData`, which holds no imagine label; imagine labels of train
subjects are reachable only through :meth:`ChallengeDataset.imagine_labels`,
which the scoring side calls.

Subjects are checked against each other, not against whichever sorts first:
:meth:`ChallengeDataset.set_reference` reads the headers of the subjects a
run asks for (sampling rate, time axes, MEG channels; from the array cache
when it holds them) and keeps, for each fact, the value most of them share.
Every load, from the FIF files or from the array cache, is compared with
that reference, so the odd subject out is the one that fails, named with its
file, and folders a run does not ask for play no part.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from datasets import layout
from datasets.cache import ArrayCache, content_signature, file_signature, files_key
from datasets.errors import DatasetError

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


@dataclass(frozen=True, eq=False)
class FileHeader:
    """What every subject's file of one kind must share with the others.

    Attributes
    ----------
    source : Path
        The ``-epo.fif`` file.
    sfreq : float
        Sampling rate in Hz.
    times : ndarray, shape (n_times,)
        Time of each sample in seconds.
    ch_names : tuple of str
        MEG channel names, normalised to the ``MEG0113`` style.
    """

    source: Path
    sfreq: float
    times: np.ndarray
    ch_names: tuple[str, ...]


#: Facts compared across subjects: (description, attribute of FileHeader).
_FACTS: tuple[tuple[str, str], ...] = (
    ("sampling rate", "sfreq"),
    ("time axis", "times"),
    ("MEG channels", "ch_names"),
)
_KINDS = ("localizer", "imagine")


def _fact_key(attr: str, value) -> tuple:
    """Hashable, tolerance-free summary of one header fact (for counting agreement)."""
    if attr == "sfreq":
        return (round(float(value), 6),)
    if attr == "times":
        return (int(value.size), round(float(value[0]), 6), round(float(value[-1]), 6))
    return tuple(value)


def _fact_text(attr: str, value) -> str:
    if attr == "sfreq":
        return f"{float(value)} Hz"
    if attr == "times":
        return f"{value[0]:.3f}..{value[-1]:.3f} s ({value.size} samples)"
    return f"{len(value)} channels"


def _names(subjects: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(subjects[:limit])
    return shown + (f" and {len(subjects) - limit} more" if len(subjects) > limit else "")


@dataclass(frozen=True)
class _Reference:
    """For each (kind, fact): the value most compared subjects share, or None on a tie."""

    values: dict  # (kind, attr) -> FileHeader attribute value, or None on a tie
    holders: dict  # (kind, attr) -> subjects holding that value (the groups, on a tie)
    compared: tuple[str, ...]


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
        self._ref: _Reference | None = None
        #: subjects found unusable by a header check (name -> message)
        self.excluded: dict[str, str] = {}
        if self.root.exists() and not self.root.is_dir():
            raise DatasetError(
                f"--data {self.root} is a file, not a folder. Give the dataset's root folder, "
                "the one holding train/ and test/ in the IMAGINE challenge layout."
            )
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
    def header(self, subject: str) -> dict[str, FileHeader]:
        """Read the header facts of ``subject``'s two epochs files, without their data.

        Taken from the array cache when it holds the subject's current files,
        else from the FIF files (``preload=False``: headers only).

        Returns
        -------
        dict
            ``{"localizer": FileHeader, "imagine": FileHeader}``.

        Raises
        ------
        DatasetError
            If a file is missing or unreadable.
        """
        ref = self.ref(subject)
        hit = self._cache_hit(subject, ref)
        if hit is not None:
            data = _from_cache(subject, ref, *hit)
            return {kind: _block_header(getattr(data, kind)) for kind in _KINDS}
        files = {
            "localizer": layout.localizer_epochs_file(ref.path, subject),
            "imagine": layout.imagine_epochs_file(ref.path, subject),
        }
        out = {}
        for kind, fname in files.items():
            epochs = _read_epochs(fname, preload=False)
            out[kind] = FileHeader(
                fname,
                float(epochs.info["sfreq"]),
                epochs.times.copy(),
                tuple(_normalise_names(_meg_names(epochs.info))),
            )
        return out

    def set_reference(self, subjects: Iterable[str]) -> dict[str, str]:
        """Compare the headers of ``subjects`` and keep what most of them share.

        Every later load (from files or from the array cache) is checked
        against this reference. Subjects whose headers cannot be read take no
        part in it.

        Parameters
        ----------
        subjects : iterable of str
            The subjects of the run.

        Returns
        -------
        dict
            Subject -> message, for the subjects whose headers are unreadable
            or disagree with the reference (each would fail when loaded).
        """
        headers: dict[str, dict[str, FileHeader]] = {}
        problems: dict[str, str] = {}
        for subject in subjects:
            try:
                headers[subject] = self.header(subject)
            except DatasetError as exc:
                problems[subject] = str(exc)
        values, holders = {}, {}
        for kind in _KINDS:
            for _, attr in _FACTS:
                groups: dict[tuple, list[str]] = {}
                first: dict[tuple, object] = {}
                for subject, header in headers.items():
                    value = getattr(header[kind], attr)
                    key = _fact_key(attr, value)
                    groups.setdefault(key, []).append(subject)
                    first.setdefault(key, value)
                counts = Counter({k: len(v) for k, v in groups.items()}).most_common()
                if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
                    values[(kind, attr)] = first[counts[0][0]]
                    holders[(kind, attr)] = tuple(groups[counts[0][0]])
                elif counts:  # a tie: no value is the norm
                    values[(kind, attr)] = None
                    holders[(kind, attr)] = tuple(
                        f"{_fact_text(attr, first[k])}: {_names(groups[k])}" for k, _ in counts
                    )
        self._ref = _Reference(values, holders, tuple(headers))
        self._warn_duplicates(list(headers))
        for subject, header in headers.items():
            try:
                self._check_headers(header)
            except DatasetError as exc:
                problems[subject] = str(exc)
        return problems

    def _warn_duplicates(self, subjects: list[str]) -> dict[tuple, list[str]]:
        """Warn about subjects whose epochs files hold the same recording (``sub-05`` and ``sub-5``).

        Compares :func:`~datasets.cache.content_signature` of each subject's
        localizer and imagine epochs files (about 400 KiB read per file).

        Returns
        -------
        dict
            Signature -> the subjects sharing it, for groups of two or more.
        """
        groups: dict[tuple, list[str]] = {}
        for subject in subjects:
            ref = self.ref(subject)
            files = (
                layout.localizer_epochs_file(ref.path, subject),
                layout.imagine_epochs_file(ref.path, subject),
            )
            try:
                key = tuple(content_signature(f) for f in files)
            except OSError:
                continue
            groups.setdefault(key, []).append(subject)
        shared = {k: v for k, v in groups.items() if len(v) > 1}
        for names in shared.values():
            folders = ", ".join(str(self.ref(s).path) for s in names)
            logger.warning(
                "%s hold the same recording (identical epochs files in %s): each is scored as a separate "
                "subject; remove the copies you did not mean to run", " and ".join(names), folders,
            )  # fmt: skip
        return shared

    def header_problems(self, subjects: Iterable[str]) -> dict[str, str]:
        """Check the headers of ``subjects`` against the current reference (see :meth:`set_reference`).

        Returns
        -------
        dict
            Subject -> message for each subject that is unreadable or disagrees.
        """
        problems = {}
        for subject in subjects:
            try:
                self._check_headers(self.header(subject))
            except DatasetError as exc:
                problems[subject] = str(exc)
        return problems

    @property
    def _reference(self) -> _Reference:
        if self._ref is None:  # nobody chose the subjects: all of them
            self.set_reference(self.subjects)
        return self._ref

    def reference_header(self) -> tuple[float, np.ndarray, np.ndarray, tuple[str, ...]]:
        """Return the sampling rate, time axes and MEG channels every subject must match.

        The values most subjects of :meth:`set_reference` share (by default
        all subjects on disk), computed once and kept on this object.

        Raises
        ------
        DatasetError
            If the subjects disagree with no majority, or none is readable.
        """
        ref = self._reference
        facts = [
            ("localizer", "sfreq"),
            ("localizer", "times"),
            ("imagine", "times"),
            ("localizer", "ch_names"),
        ]
        if any(ref.values.get(f) is None for f in facts):
            raise DatasetError(
                f"{self.root}: the subjects {_names(list(ref.compared)) or '(none readable)'} do not "
                "share one sampling rate, time axis and channel set."
            )
        return tuple(ref.values[f] for f in facts)  # type: ignore[return-value]

    def _check_headers(self, headers: dict[str, FileHeader]) -> None:
        """Raise :class:`DatasetError` naming the file whose header disagrees with the reference."""
        loc, img = headers["localizer"], headers["imagine"]
        if not np.isclose(img.sfreq, loc.sfreq):
            raise DatasetError(
                f"{img.source}: sampling rate {img.sfreq} Hz, but {loc.source.name} has {loc.sfreq} Hz; "
                "a subject's localizer and imagine epochs must share one sampling rate."
            )
        if img.ch_names != loc.ch_names:
            raise DatasetError(
                f"{img.source}: MEG channels differ from {loc.source.name} "
                f"({_describe_difference(loc.ch_names, img.ch_names)})."
            )
        for kind in _KINDS:
            self._check_header(headers[kind], kind)

    def _check_header(self, header: FileHeader, kind: str) -> None:
        ref = self._reference
        for what, attr in _FACTS:
            if (kind, attr) not in ref.values:
                continue  # no subject readable to compare with
            found, expected = getattr(header, attr), ref.values[(kind, attr)]
            holders = ref.holders[(kind, attr)]
            if expected is None:
                raise DatasetError(
                    f"{header.source}: {kind} {what}: {_fact_text(attr, found)}; the {len(ref.compared)} "
                    f"subjects compared disagree with no majority ({'; '.join(holders)}). Make them agree, "
                    "or choose the subjects to run with --subjects."
                )
            if _fact_equal(attr, found, expected, header.sfreq):
                continue
            who = (
                f"{holders[0]} has"
                if len(holders) == 1
                else f"{len(holders)} of the {len(ref.compared)} subjects compared "
                f"({_names(list(holders))}) have"
            )
            if attr == "sfreq":
                raise DatasetError(
                    f"{header.source}: sampling rate {float(found)} Hz, but {who} {float(expected)} Hz; "
                    "all subjects must share one sampling rate."
                )
            if attr == "times":
                raise DatasetError(
                    f"{header.source}: time axis {_fact_text(attr, found)}, but {who} {kind} epochs "
                    f"spanning {_fact_text(attr, expected)}."
                )
            raise DatasetError(
                f"{header.source}: MEG channels differ from those {who} "
                f"({_describe_difference(expected, found)})."
            )

    def _cache_hit(self, subject: str, ref: SubjectRef) -> tuple[dict, dict] | None:
        """Return the array-cache entry of ``subject``'s current files, or None."""
        if self.cache is None:
            return None
        sources = _source_files(ref, subject)
        if not all(p.is_file() for p in sources):
            return None
        hit = self.cache.load(files_key(sources))
        if hit is None or not _valid_cache_meta(hit[1]):
            return None
        return hit

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
        hit = self._cache_hit(subject, ref)
        if hit is not None:
            data = _from_cache(subject, ref, *hit)
            # the same checks as a FIF read: the cache holds the header facts
            self._check_headers({kind: _block_header(getattr(data, kind)) for kind in _KINDS})
            return data, list(hit[1]["imagine_events"])
        loc_file = layout.localizer_epochs_file(ref.path, subject)
        img_file = layout.imagine_epochs_file(ref.path, subject)
        data, imagine_events = self._load_files(subject, ref, loc_file, img_file)
        sources = _source_files(ref, subject)
        if self.cache is not None and all(p.is_file() for p in sources):
            arrays, meta = _to_cache(data)
            # kept beside the arrays for scoring only: SubjectData never carries them
            self.cache.save(files_key(sources), arrays, {**meta, "imagine_events": imagine_events})
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
        self._check_headers({"localizer": _block_header(localizer), "imagine": _block_header(imagine)})
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

    def imagine_count(self, subject: str) -> int:
        """Return the number of imagine epochs of ``subject`` (array cache, else the file's header)."""
        ref = self.ref(subject)
        hit = self._cache_hit(subject, ref)
        if hit is not None:
            return int(hit[0]["imagine_trial_idx"].shape[0])
        img_file = layout.imagine_epochs_file(ref.path, subject)
        return int(len(_read_epochs(img_file, preload=False).events))

    def imagine_class_counts(self, subject: str) -> np.ndarray:
        """Count the imagine epochs per class (``CLASS_NAMES`` order), for scoring."""
        labels = self.imagine_labels(subject)
        return np.array([(labels == c).sum() for c in layout.CLASS_NAMES], dtype=int)

    def fingerprint(self) -> str:
        """Return a short content fingerprint of the dataset's files.

        Hashes each file's path relative to the root and its
        :func:`~datasets.cache.file_signature` (size, modification time in
        ns, head, tail and 64 strided blocks): an in-place edit of a file is
        seen, without reading gigabytes (about 400 KiB per file).
        """
        digest = hashlib.sha256(b"fingerprint-2")
        for name in self.subjects:
            for path in sorted(self.ref(name).path.iterdir()):
                if not path.is_file():
                    continue
                digest.update(str(path.relative_to(self.root)).encode())
                digest.update(file_signature(path).encode())
        return digest.hexdigest()[:16]

    # --------------------------------------------------------------- helpers
    def _read_block(self, fname: Path, kind: str) -> tuple[Block, list[str]]:
        """Read one epochs file (checked against the other subjects by the caller)."""
        epochs = _read_epochs(fname, preload=True)
        names = _event_names(epochs, fname)
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
                f"trial_idx {_idx_text(epochs_bad + 1)} (first: trial_idx {first + 1}, channel {channel}); "
                "the data must be finite."
            )
        baseline = None if meg.baseline is None else tuple(float(b) for b in meg.baseline)
        block = Block(
            X=X,
            times=meg.times.copy(),
            sfreq=float(epochs.info["sfreq"]),
            ch_names=tuple(_normalise_names(meg.ch_names)),
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
            expected = set(range(1, len(event_names) + 1))
            found = frame["trial_idx"].tolist()
            missing = sorted(expected - set(found))
            extra = sorted({t for t in found if t not in expected})
            repeated = sorted({t for t in found if found.count(t) > 1})
            detail = "; ".join(
                f"{what} trial_idx {_idx_text(values)}"
                for what, values in (("missing", missing), ("unexpected", extra), ("repeated", repeated))
                if values
            )
            raise DatasetError(
                f"{fname}: {len(frame)} rows with trial_idx {_range_text(frame['trial_idx'])}, but the "
                f"{kind} epochs file has {len(event_names)} epochs; expected trial_idx 1..{len(event_names)}"
                + (f" ({detail})." if detail else ".")
            )
        labels = frame["label"].astype(str).to_numpy()
        unknown = sorted(set(labels) - set(layout.CLASS_NAMES))
        if unknown:
            where = frame["trial_idx"].to_numpy()[~np.isin(labels, layout.CLASS_NAMES)]
            raise DatasetError(
                f"{fname}: unknown item name(s) {unknown} at trial_idx {_idx_text(where)}; "
                f"allowed: {', '.join(layout.CLASS_NAMES)}."
            )
        if not all(name.startswith(layout.UNKNOWN_PREFIX) for name in event_names):
            disagree = np.flatnonzero(labels != np.asarray(event_names))
            if disagree.size:
                i = int(disagree[0])
                raise DatasetError(
                    f"{fname}: label of trial_idx {i + 1} is {labels[i]!r} but the epochs file's "
                    f"event is {event_names[i]!r} ({disagree.size} disagreement(s) in all, at trial_idx "
                    f"{_idx_text(disagree + 1)})."
                )
        return labels


_BLOCK_META = ("sfreq", "ch_names", "ch_types", "baseline")
_ARRAYS = tuple(f"{kind}_{name}" for kind in _KINDS for name in ("X", "times", "trial_idx"))


def _source_files(ref: SubjectRef, subject: str) -> list[Path]:
    """Return the files whose content a subject's cache entry is keyed by."""
    return [
        layout.localizer_epochs_file(ref.path, subject),
        layout.localizer_labels_file(ref.path, subject),
        layout.imagine_epochs_file(ref.path, subject),
    ]


def _valid_cache_meta(meta) -> bool:
    """Return True if a cache entry's ``meta.json`` has every field :func:`_from_cache` reads."""
    try:
        return (
            isinstance(meta.get("imagine_events"), list)
            and isinstance(meta.get("localizer_labels"), list)
            and set(_ARRAYS) <= set(meta.get("arrays", ()))
            and all(set(_BLOCK_META) | {"source"} <= set(meta[kind]) for kind in _KINDS)
        )
    except (AttributeError, KeyError, TypeError):
        return False


def _block_header(block: Block) -> FileHeader:
    return FileHeader(block.source, block.sfreq, np.asarray(block.times), block.ch_names)


def _fact_equal(attr: str, found, expected, sfreq: float) -> bool:
    if attr == "sfreq":
        return bool(np.isclose(float(found), float(expected)))
    if attr == "times":
        return found.shape == expected.shape and bool(np.allclose(found, expected, atol=0.5 / sfreq))
    return tuple(found) == tuple(expected)


def _idx_text(values, limit: int = 10) -> str:
    """``1, 4, 9`` (at most ``limit`` values, then ``... (n in all)``)."""
    values = [int(v) for v in values]
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _to_cache(data: SubjectData) -> tuple[dict[str, np.ndarray], dict]:
    arrays, meta = {}, {"localizer_labels": data.localizer_labels.tolist()}
    for kind in ("localizer", "imagine"):
        block: Block = getattr(data, kind)
        arrays.update(
            {f"{kind}_X": block.X, f"{kind}_times": block.times, f"{kind}_trial_idx": block.trial_idx}
        )
        meta[kind] = {**{k: getattr(block, k) for k in _BLOCK_META}, "source": str(block.source)}
    return arrays, meta


def _from_cache(subject: str, ref: SubjectRef, arrays: dict[str, np.ndarray], meta: dict) -> SubjectData:
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


def _read_epochs(fname: Path, *, preload: bool):
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
