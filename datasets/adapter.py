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
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from datasets import layout, reading, subject_cache
from datasets.cache import ArrayCache, content_signature, file_signature, files_key
from datasets.errors import DatasetError
from datasets.header_facts import (
    FACTS,
    KINDS,
    Reference,
    block_header,
    describe_difference,
    fact_equal,
    fact_key,
    fact_text,
    subject_list,
)
from datasets.records import FileHeader, SubjectData, SubjectRef

logger = logging.getLogger(__name__)

_SUBJECT_RE = re.compile(r"^sub-[A-Za-z0-9]+$")


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
        self._ref: Reference | None = None
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
            data = subject_cache.from_cache(subject, ref, *hit)
            return {kind: block_header(getattr(data, kind)) for kind in KINDS}
        files = {
            "localizer": layout.localizer_epochs_file(ref.path, subject),
            "imagine": layout.imagine_epochs_file(ref.path, subject),
        }
        out = {}
        for kind, fname in files.items():
            epochs = reading.read_epochs(fname, preload=False)
            out[kind] = FileHeader(
                fname,
                float(epochs.info["sfreq"]),
                epochs.times.copy(),
                tuple(reading.normalise_names(reading.meg_names(epochs.info))),
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
        for kind in KINDS:
            for _, attr in FACTS:
                groups: dict[tuple, list[str]] = {}
                first: dict[tuple, object] = {}
                for subject, header in headers.items():
                    value = getattr(header[kind], attr)
                    key = fact_key(attr, value)
                    groups.setdefault(key, []).append(subject)
                    first.setdefault(key, value)
                counts = Counter({k: len(v) for k, v in groups.items()}).most_common()
                if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
                    values[(kind, attr)] = first[counts[0][0]]
                    holders[(kind, attr)] = tuple(groups[counts[0][0]])
                elif counts:  # a tie: no value is the norm
                    values[(kind, attr)] = None
                    holders[(kind, attr)] = tuple(
                        f"{fact_text(attr, first[k])}: {subject_list(groups[k])}" for k, _ in counts
                    )
        self._ref = Reference(values, holders, tuple(headers))
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
    def _reference(self) -> Reference:
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
                f"{self.root}: the subjects {subject_list(list(ref.compared)) or '(none readable)'} do not "
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
                f"({describe_difference(loc.ch_names, img.ch_names)})."
            )
        for kind in KINDS:
            self._check_header(headers[kind], kind)

    def _check_header(self, header: FileHeader, kind: str) -> None:
        ref = self._reference
        for what, attr in FACTS:
            if (kind, attr) not in ref.values:
                continue  # no subject readable to compare with
            found, expected = getattr(header, attr), ref.values[(kind, attr)]
            holders = ref.holders[(kind, attr)]
            if expected is None:
                raise DatasetError(
                    f"{header.source}: {kind} {what}: {fact_text(attr, found)}; the {len(ref.compared)} "
                    f"subjects compared disagree with no majority ({'; '.join(holders)}). Make them agree, "
                    "or choose the subjects to run with --subjects."
                )
            if fact_equal(attr, found, expected, header.sfreq):
                continue
            who = (
                f"{holders[0]} has"
                if len(holders) == 1
                else f"{len(holders)} of the {len(ref.compared)} subjects compared "
                f"({subject_list(list(holders))}) have"
            )
            if attr == "sfreq":
                raise DatasetError(
                    f"{header.source}: sampling rate {float(found)} Hz, but {who} {float(expected)} Hz; "
                    "all subjects must share one sampling rate."
                )
            if attr == "times":
                raise DatasetError(
                    f"{header.source}: time axis {fact_text(attr, found)}, but {who} {kind} epochs "
                    f"spanning {fact_text(attr, expected)}."
                )
            raise DatasetError(
                f"{header.source}: MEG channels differ from those {who} "
                f"({describe_difference(expected, found)})."
            )

    def _cache_hit(self, subject: str, ref: SubjectRef) -> tuple[dict, dict] | None:
        """Return the array-cache entry of ``subject``'s current files, or None."""
        if self.cache is None:
            return None
        sources = subject_cache.source_files(ref, subject)
        if not all(p.is_file() for p in sources):
            return None
        hit = self.cache.load(files_key(sources))
        if hit is None or not subject_cache.valid_cache_meta(hit[1]):
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
            data = subject_cache.from_cache(subject, ref, *hit)
            # the same checks as a FIF read: the cache holds the header facts
            self._check_headers({kind: block_header(getattr(data, kind)) for kind in KINDS})
            return data, list(hit[1]["imagine_events"])
        loc_file = layout.localizer_epochs_file(ref.path, subject)
        img_file = layout.imagine_epochs_file(ref.path, subject)
        data, imagine_events = self._load_files(subject, ref, loc_file, img_file)
        sources = subject_cache.source_files(ref, subject)
        if self.cache is not None and all(p.is_file() for p in sources):
            arrays, meta = subject_cache.to_cache(data)
            # kept beside the arrays for scoring only: SubjectData never carries them
            self.cache.save(files_key(sources), arrays, {**meta, "imagine_events": imagine_events})
        return data, imagine_events

    def _load_files(
        self, subject: str, ref: SubjectRef, loc_file: Path, img_file: Path
    ) -> tuple[SubjectData, list[str]]:
        localizer, loc_names = reading.read_block(loc_file, "localizer")
        labels = reading.read_labels(layout.localizer_labels_file(ref.path, subject), loc_names, "localizer")
        counts = pd.Series(labels).value_counts()
        empty = [c for c in layout.CLASS_NAMES if counts.get(c, 0) == 0]
        if empty:
            raise DatasetError(
                f"{loc_file}: no localizer epochs for class(es) {', '.join(empty)}; "
                "every item needs localizer trials to train a decoder."
            )
        imagine, imagine_events = reading.read_block(img_file, "imagine")
        self._check_headers({"localizer": block_header(localizer), "imagine": block_header(imagine)})
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
            names = reading.event_names(reading.read_epochs(img_file, preload=False), img_file)
        return reading.read_labels(layout.imagine_labels_file(ref.path, subject), names, "imagine")

    def imagine_count(self, subject: str) -> int:
        """Return the number of imagine epochs of ``subject`` (array cache, else the file's header)."""
        ref = self.ref(subject)
        hit = self._cache_hit(subject, ref)
        if hit is not None:
            return int(hit[0]["imagine_trial_idx"].shape[0])
        img_file = layout.imagine_epochs_file(ref.path, subject)
        return int(len(reading.read_epochs(img_file, preload=False).events))

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
