"""What a task hands a decoder: context, inputs and shared folds, prepared in the harness's process."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark import sandbox, scoring
from benchmark.config import RunConfig
from benchmark.contract import DecoderContext, DecoderSpec, TaskMemo
from benchmark.errors import DatasetError
from datasets.adapter import ChallengeDataset
from datasets.layout import CLASS_NAMES
from datasets.records import SubjectData
from datasets.truth import find_truth_dir, load_subject_truth

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """One unit of work: a decoder on a subject."""

    spec: DecoderSpec
    subject: str


class OtherLocalizers(Sequence):
    """Lazy sequence of the other subjects' localizer ``(X, y)`` pairs.

    Handed to decoders that declare ``uses={"others"}``; each item is read
    from disk when accessed, so no more than one extra subject is held unless
    the decoder keeps them.
    """

    def __init__(self, dataset: ChallengeDataset, subjects: Sequence[str]) -> None:
        self._dataset = dataset
        self.subjects = tuple(subjects)

    def __len__(self) -> int:
        return len(self.subjects)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        data = self._dataset.load(self.subjects[index])
        return data.localizer.X, data.localizer_labels


def make_context(data: SubjectData, seed: int) -> DecoderContext:
    """Build the :class:`DecoderContext` of one subject's data."""
    return DecoderContext(
        sfreq=data.localizer.sfreq,
        localizer_times=data.localizer.times,
        imagine_times=data.imagine.times,
        ch_types=data.localizer.ch_types,
        classes=CLASS_NAMES,
        random_state=seed,
    )


def ordered_proba(estimator, proba: np.ndarray, n_epochs: int, name: str) -> np.ndarray:
    """Check a decoder's probabilities and put the columns in ``CLASS_NAMES`` order.

    Raises
    ------
    DecoderOutputError
        If the shape, the classes or the values are not valid probabilities.
    """
    return sandbox.ordered_proba(estimator, proba, n_epochs, name, CLASS_NAMES)


def fit_params(spec: DecoderSpec, data: SubjectData, dataset: ChallengeDataset) -> dict:
    """Return the keyword arguments of ``fit`` that ``spec.uses`` asks for (in this process).

    For tools that fit a decoder outside a run (the runner itself hands a task
    process the same through :func:`prepare_task`).

    Parameters
    ----------
    spec : DecoderSpec
        The decoder; ``uses`` may hold ``"imagine"``, ``"others"``, ``"truth"``,
        ``"memo"``.
    data : SubjectData
        The subject being decoded.
    dataset : ChallengeDataset
        Where other subjects and the simulation's truth are read from.

    Returns
    -------
    dict
        ``X_imagine`` (the subject's unlabeled imagine epochs), ``others`` (a
        lazy :class:`OtherLocalizers`), ``truth`` (without the imagine labels)
        and ``memo`` (a new :class:`~benchmark.contract.TaskMemo`) as requested.

    Raises
    ------
    DatasetError
        If ``truth`` is requested and the dataset has no ground truth.
    """
    params: dict = {}
    if "imagine" in spec.uses:
        params["X_imagine"] = data.imagine.X
    if "others" in spec.uses:
        params["others"] = OtherLocalizers(dataset, other_subjects(dataset, data.subject))
    if "truth" in spec.uses:
        params["truth"] = decoder_truth(dataset, spec, data.subject, np.arange(len(data.imagine.X)))
    if "memo" in spec.uses:
        params["memo"] = TaskMemo()
    return params


def other_subjects(dataset: ChallengeDataset, subject: str) -> list[str]:
    """Return the subjects whose localizers a decoder using ``others`` gets (those found usable)."""
    return [s for s in dataset.subjects if s != subject and s not in dataset.excluded]


#: Keys of a simulated subject's truth that hold the imagine labels: never handed to a decoder.
_LABEL_KEYS = ("imagine_labels", "imagine_trial_idx")


def decoder_truth(dataset: ChallengeDataset, spec: DecoderSpec, subject: str, order: np.ndarray) -> dict:
    """Return the simulator's truth of ``subject`` for an oracle: no imagine labels, trials in ``order``.

    Raises
    ------
    DatasetError
        If the dataset has no ground truth for the subject.
    """
    truth_dir = find_truth_dir(dataset.root)
    truth = load_subject_truth(truth_dir, subject) if truth_dir else None
    if truth is None:
        raise DatasetError(
            f"decoder {spec.name!r} needs the simulation's ground truth, which {dataset.root} "
            "does not have (it exists only for simulated datasets)."
        )
    out = {}
    for key, value in truth.items():
        if key in _LABEL_KEYS:
            continue
        per_trial = key.startswith("imagine_") and key != "imagine_times" and np.ndim(value) >= 1
        out[key] = np.asarray(value)[order] if per_trial and len(value) == len(order) else value
    return out


@dataclass(frozen=True, eq=False)
class PreparedTask:
    """What a task process receives, and what only the harness keeps.

    Attributes
    ----------
    header, arrays : dict
        Sent to the task process (:func:`benchmark.wire.send_task`):
        no trial id, no imagine label, imagine epochs in ``order``.
    order : ndarray of int
        ``arrays["X_imagine"][i]`` is the file's epoch ``order[i]``.
    data : SubjectData
        The subject (kept by the harness).
    others : list of str
        The subjects behind ``others`` requests.
    """

    header: dict
    arrays: dict
    order: np.ndarray
    data: SubjectData
    others: list[str]


def prepare_task(
    dataset: ChallengeDataset,
    spec: DecoderSpec,
    subject: str,
    config: RunConfig,
    *,
    order: np.ndarray | None = None,
    fit_file: Path | None = None,
    base_fits: Mapping[str, Path] | None = None,
) -> PreparedTask:
    """Load a subject and build what its task process receives.

    The imagine epochs are put in a fresh random order for every task (from
    the operating system's entropy, unknown to the decoder), so nothing a
    decoder returns can line up with the file's trial order by itself; the
    harness maps the probabilities back with ``order``.

    Parameters
    ----------
    dataset : ChallengeDataset
        Where the subject is read from.
    spec : DecoderSpec
        The decoder.
    subject : str
        The subject.
    config : RunConfig
        Seed and localizer folds.
    order : ndarray or None
        The imagine order to use (tests); None draws one.
    fit_file : Path or None
        Where the task process stores its fitted estimator, or finds one
        fitted to identical inputs (:mod:`benchmark.fits`); None: it fits.
    base_fits : mapping of str to Path, or None
        The same for the decoders ``spec`` builds on (``spec.bases``), by
        name: the task process loads (or fits and stores) each and hands them
        to the final fit as ``fitted``.

    Raises
    ------
    DatasetError
        If the subject's files are unusable.
    """
    data = dataset.load(subject)
    n_imagine = len(data.imagine.X)
    if order is None:
        order = np.random.default_rng().permutation(n_imagine)
    y = np.asarray(data.localizer_labels)
    folds = localizer_folds(spec, y, subject, config)
    bases = [
        (base, str(base_fits[base.name]), localizer_folds(base, y, subject, config))
        for base in spec.bases
        if base.name in (base_fits or {})
    ]
    others = other_subjects(dataset, subject) if "others" in spec.uses else []
    header = {
        "spec": spec,
        "context": make_context(data, config.seed),
        "classes": CLASS_NAMES,
        "y": y.astype(str).tolist(),
        "folds": folds,
        "n_others": len(others),
        "want_course": data.split == "train",
        "truth": decoder_truth(dataset, spec, subject, order) if "truth" in spec.uses else None,
        "fit_file": None if fit_file is None else str(fit_file),
        "bases": bases,
    }
    arrays = {"X": data.localizer.X, "X_imagine": np.asarray(data.imagine.X)[order]}
    return PreparedTask(header, arrays, np.asarray(order), data, others)


def localizer_folds(spec: DecoderSpec, y: np.ndarray, subject: str, config: RunConfig) -> list:
    """Return the localizer-CV folds of ``spec`` on a subject (none when unranked or without folds)."""
    # oracles read the truth: their localizer accuracy would say nothing about them
    if not (config.localizer_folds and spec.ranked):
        return []
    return scoring.localizer_splits(y, subject=subject, seed=config.seed, n_splits=config.localizer_folds)


def serve_others(dataset: ChallengeDataset, others: Sequence[str]):
    """Return a function that loads the ``index``-th other subject's localizer for the task process."""

    def serve(index: int) -> tuple[dict, dict]:
        data = dataset.load(others[index])
        return {"y": np.asarray(data.localizer_labels).astype(str).tolist()}, {"X": data.localizer.X}

    return serve


def plan_tasks(specs: Sequence[DecoderSpec], subjects: Sequence[str]) -> list[Task]:
    """All (decoder, subject) pairs, decoder-major, in a deterministic order."""
    return [Task(spec, subject) for spec in specs for subject in subjects]


def fit_files(
    dataset: ChallengeDataset,
    tasks: Sequence[Task],
    config: RunConfig,
    fields: dict[str, dict] | None = None,
) -> dict[tuple[str, str], Path]:
    """Where each task that can share its fit stores it, or finds it (``config.fit_cache`` set).

    A task shares its fit when its decoder fits on the localizers only
    (:func:`benchmark.fits.shares_fit`), and the fits of the decoders it
    builds on (``spec.bases``) always; each file is named by
    :func:`benchmark.fits.fit_key` of the decoder's code, versions, seed and
    folds (:func:`benchmark.store.task_fields`) and the content of the
    localizers it is handed (its subject's, and the others' when it uses
    them), each localizer read and hashed once here.

    Parameters
    ----------
    dataset : ChallengeDataset
        Where the localizers are read from.
    tasks : sequence of Task
        The tasks to run.
    config : RunConfig
        Seed, folds and ``fit_cache``.
    fields : dict of str to dict, or None
        :func:`benchmark.store.task_fields` of decoders already computed by
        the caller, by name; completed here with those of the bases (the
        caller's dict is updated, so each decoder's code is hashed once).

    Returns
    -------
    dict of (decoder, subject) to Path
        The tasks' decoders and the decoders they build on; empty when
        ``config.fit_cache`` is None.
    """
    from benchmark.fits import fit_key, localizer_digest, shares_fit
    from benchmark.store import task_fields

    if config.fit_cache is None:
        return {}
    digests: dict[str, str | None] = {}

    def digest(subject: str) -> str | None:
        if subject not in digests:
            try:
                data = dataset.load(subject)
            except DatasetError:  # the task itself reports the subject's files; it fits on its own
                digests[subject] = None
            else:
                loc = data.localizer
                digests[subject] = localizer_digest(loc.X, data.localizer_labels, loc.times, loc.ch_names)
        return digests[subject]

    decided = {} if fields is None else fields  # each decoder's code is hashed once
    out = {}
    for task in tasks:
        for spec in (task.spec, *task.spec.bases):
            if not shares_fit(spec.uses) or (spec.name, task.subject) in out:
                continue
            others = other_subjects(dataset, task.subject) if "others" in spec.uses else []
            inputs = [digest(s) for s in (task.subject, *others)]
            if None in inputs:
                continue
            if spec.name not in decided:
                decided[spec.name] = task_fields(spec, config)
            key = fit_key(decided[spec.name], inputs[0], inputs[1:])
            out[(spec.name, task.subject)] = Path(config.fit_cache) / f"{key}.pkl"
    return out
