"""Run (decoder, subject) tasks and record one result row per task.

Each task loads its subject in the harness's process (never all subjects at
once) and hands the decoder's part to a task process that holds epochs and
never an imagine label (:mod:`benchmark.sandbox`): the localizer epochs and
labels, the shared localizer folds, and the imagine epochs in a fresh
random order without trial ids. There a fresh estimator is built from the
decoder's factory for every fit, cross-validated on the localizer, fitted
on the whole localizer, and asked for the imagine probabilities. Back here
they are mapped to the file's trial order and scored against the labels
only this process reads (:func:`score_row`). A task that raises becomes an
``error`` row with its message, the line it was raised at and a short
traceback; the run goes on. Each row is stored in ``cache/<key>.json`` (see
:mod:`benchmark.store`) and appended to ``tasks.jsonl`` as its task
finishes, so an interrupted run keeps what it computed and a rerun resumes.
A stored row is checked against the dataset and rescored, never trusted
(:func:`_verified`).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark import sandbox, scoring
from benchmark.config import RunConfig
from benchmark.contract import DecoderContext, DecoderSpec, TaskMemo
from benchmark.errors import DatasetError, EnvironmentFailure
from benchmark.executor import Job, ProcessGroups, dask_client, execute, execute_dask, run_isolated
from benchmark.outdir import environment_failure, write_text_atomic
from benchmark.schedule import longest_first, previous_durations
from benchmark.store import ResultStore, task_key
from datasets.adapter import ChallengeDataset, SubjectData
from datasets.layout import CLASS_NAMES
from datasets.truth import find_truth_dir, load_subject_truth

logger = logging.getLogger(__name__)

TASKS_FILE = "tasks.jsonl"


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
        Sent to the task process (:func:`benchmark.sandbox.send_task`):
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
    folds = []
    # oracles read the truth: their localizer accuracy would say nothing about them
    if config.localizer_folds and spec.ranked:
        folds = scoring.localizer_splits(
            y, subject=subject, seed=config.seed, n_splits=config.localizer_folds
        )
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
    }
    arrays = {"X": data.localizer.X, "X_imagine": np.asarray(data.imagine.X)[order]}
    return PreparedTask(header, arrays, np.asarray(order), data, others)


def _serve_others(dataset: ChallengeDataset, others: Sequence[str]):
    def serve(index: int) -> tuple[dict, dict]:
        data = dataset.load(others[index])
        return {"y": np.asarray(data.localizer_labels).astype(str).tolist()}, {"X": data.localizer.X}

    return serve


def run_task(
    dataset: ChallengeDataset, task: Task, config: RunConfig, groups: ProcessGroups | None = None
) -> dict:
    """Run one task and return its unscored result row; never raises for decoder errors.

    This process loads the subject; the decoder runs in a task process
    (:func:`benchmark.executor.run_isolated`) that receives the epochs only.
    The row holds the probabilities in the file's trial order; the scores
    are added by :func:`score_row` (in the process that runs the run).

    Parameters
    ----------
    dataset : ChallengeDataset
        Where the subject's data is read from.
    task : Task
        Decoder and subject.
    config : RunConfig
        Seed, folds, time limit, memory cap.
    groups : ProcessGroups or None
        Tracks the task process (killed when the run stops).

    Returns
    -------
    dict
        The result row, with ``proba`` (imagine probabilities as nested
        lists) and ``trial_idx`` when it succeeded, and ``_course`` (the
        imagine time course, for the report's curve; not stored).
    """
    spec, subject = task.spec, task.subject
    row: dict = {
        "pipeline": spec.name,
        "family": spec.family,
        "eligible": spec.ranked,
        "subject": subject,
        "split": dataset.ref(subject).split,
        "status": "ok",
        "error": "",
    }
    start = time.perf_counter()
    try:
        prepared = prepare_task(dataset, spec, subject, config)
    except Exception as exc:  # the subject's files: named in the message
        row.update(_error_fields(exc, "error"))
        row["wall_time"] = time.perf_counter() - start
        if groups is None or not groups.closed:
            logger.warning("decoder %r failed on %s: %s", spec.name, subject, row["error"])
        return row
    n = len(prepared.order)
    result = run_isolated(
        prepared.header,
        prepared.arrays,
        serve=_serve_others(dataset, prepared.others),
        timeout=config.timeout,
        max_memory_mb=config.max_memory_mb,
        max_elements=max(10**6, 4 * n * len(prepared.data.imagine.times) * len(CLASS_NAMES)),
        groups=groups,
    )
    row.update(_task_fields(prepared, result))
    row["wall_time"] = time.perf_counter() - start
    if groups is not None and groups.closed:  # the run stopped: it said so once, and drops this row
        return row
    if row["status"] != "ok":
        if row["status"] == "timeout":
            logger.warning("task %s on %s exceeded the %g s timeout and was killed", spec.name, subject,
                           config.timeout)  # fmt: skip
        else:
            logger.warning("decoder %r failed on %s: %s", spec.name, subject, row["error"])
    return row


def _error_fields(exc: BaseException, status: str) -> dict:
    fields = {"status": status, "error": f"{type(exc).__name__}: {exc}"}
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        where = frames[-1]
        fields["error_at"] = f"{where.filename}:{where.lineno} in {where.name}"
    fields["traceback"] = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
    return fields


_KEPT = ("status", "error", "error_at", "traceback", "localizer_accuracy", "fit_time", "predict_time", "time",
         "peak_memory_mb", "memory_method", "evidence_error")  # fmt: skip


def _task_fields(prepared: PreparedTask, result) -> dict:
    """Return the row fields of a task process's result, its arrays mapped back to the file's trial order."""
    data, order = prepared.data, prepared.order
    out: dict = {
        "split": data.split,
        "n_localizer": int(len(data.localizer.X)),
        "n_imagine": int(len(order)),
        "channels": int(data.localizer.X.shape[1]),
    }
    if result.status != "done":
        out.update(status=result.status, error=str(result.fields.get("error", "")))
        return out
    fields = {k: result.fields[k] for k in _KEPT if k in result.fields}
    status = fields.get("status")
    if status not in ("ok", "invalid", "oom", "error"):
        return {**out, "status": "error", "error": f"the decoder's process reported status {status!r}"}
    out.update(fields)
    for name in ("localizer_accuracy", "fit_time", "predict_time", "time", "peak_memory_mb"):
        if name in out and not isinstance(out[name], int | float):
            out[name] = float("nan")
    if status != "ok":
        return out
    proba = result.arrays.get("proba")
    if proba is None or proba.shape != (len(order), len(CLASS_NAMES)):
        shape = None if proba is None else proba.shape
        return {
            **out,
            "status": "invalid",
            "error": f"the decoder's process returned probabilities of shape {shape}",
        }
    in_file_order = np.empty_like(proba)
    in_file_order[order] = proba
    out["trial_idx"] = np.asarray(data.imagine.trial_idx).tolist()
    # full precision: the scores are recomputed from these numbers, stored or fresh (rounding to 6
    # decimals tied the tiny probabilities of a confident decoder and moved its top-3 and balanced scores)
    out["proba"] = in_file_order.tolist()
    course = result.arrays.get("course")
    if course is not None and course.ndim == 3 and course.shape[0] == len(order):
        in_order = np.empty_like(course)
        in_order[order] = course
        out["_course"] = in_order
        out["_imagine_times"] = np.asarray(data.imagine.times)
    return out


def _run_task_body(
    dataset: ChallengeDataset,
    spec: DecoderSpec,
    subject: str,
    config: RunConfig,
    *,
    order: np.ndarray | None = None,
) -> dict:
    """Run a task's decoder in this process and score it (tests and tools; a run isolates it).

    ``order`` is the imagine order handed to the decoder (None: a random
    one, as in a run). Raises whatever the decoder raises.
    """
    prepared = prepare_task(dataset, spec, subject, config, order=order)
    others = OtherLocalizers(dataset, prepared.others)
    fields, arrays = sandbox.decode(prepared.header, prepared.arrays, others)
    from benchmark.executor import Isolated

    row = _task_fields(prepared, Isolated("done", {"status": "ok", **fields}, arrays, 0.0))
    labels = dataset.imagine_labels(subject) if prepared.data.split == "train" else None
    return score_row(row, labels)


def score_row(row: dict, labels: np.ndarray | None) -> dict:
    """Add the scores of an ``ok`` row, computed from its probabilities and the true labels.

    Parameters
    ----------
    row : dict
        A result row with ``proba`` and ``trial_idx`` (file order); its
        ``_course`` and ``_imagine_times`` (if any) become the evidence curve.
    labels : ndarray of str or None
        The subject's imagine labels in file order (None: a test subject).

    Returns
    -------
    dict
        The row with ``score``, ``balanced_accuracy``, ``top3`` and, for a
        train subject, ``y_true`` and the evidence curve.
    """
    row = dict(row)
    course, times = row.pop("_course", None), row.pop("_imagine_times", None)
    if row.get("status") != "ok":
        return row
    if labels is None:
        row["score"] = row["balanced_accuracy"] = row["top3"] = float("nan")
        return row
    y_img = np.searchsorted(np.asarray(CLASS_NAMES), np.asarray(labels)[np.asarray(row["trial_idx"]) - 1])
    row.update(scoring.task_scores(np.asarray(row["proba"], dtype=float), y_img))
    row["y_true"] = y_img.tolist()
    if course is not None:
        from benchmark.stats import true_class_evidence

        try:
            curve = true_class_evidence(course, y_img, CLASS_NAMES, CLASS_NAMES)
            row["evidence_curve"] = np.round(curve, 6).tolist()
            row["evidence_times"] = np.round(np.asarray(times)[: len(curve)], 6).tolist()
        except (ValueError, IndexError) as exc:
            row["evidence_error"] = f"{type(exc).__name__}: {exc}"
    return row


def pools_time_course(estimator) -> bool:
    """Whether the estimator's imagine probabilities are its time course pooled (optional contract)."""
    return sandbox.pools_time_course(estimator)


def plan_tasks(specs: Sequence[DecoderSpec], subjects: Sequence[str]) -> list[Task]:
    """All (decoder, subject) pairs, decoder-major, in a deterministic order."""
    return [Task(spec, subject) for spec in specs for subject in subjects]


def run_tasks(
    dataset: ChallengeDataset,
    tasks: Sequence[Task],
    config: RunConfig,
    out: Path,
    *,
    fingerprint: str,
) -> list[dict]:
    """Run ``tasks`` in isolated processes, reusing stored results.

    Parameters
    ----------
    dataset : ChallengeDataset
        The data; workers load their subject themselves.
    tasks : sequence of Task
        What to run.
    config : RunConfig
        Parallelism, seed, timeout, memory cap, ``force``, progress bar.
    out : Path
        Output folder. Each finished task is stored atomically in
        ``out/cache/<key>.json`` and appended to ``out/tasks.jsonl`` as soon
        as it finishes (the journal starts with the reused rows and is
        rewritten in task order at the end).
    fingerprint : str
        Dataset fingerprint, part of each task's cache key.

    Returns
    -------
    list of dict
        Result rows in task order; rows read back from the cache have
        ``cached=True``. Stored rows that fail the store's checks are
        recomputed (see :meth:`ResultStore.load_ok`).
    """
    from tqdm.auto import tqdm

    store = ResultStore(out / "cache")
    truth = _Truth(dataset)
    rows: list[dict | None] = [None] * len(tasks)
    jobs: list[Job] = []
    index: dict[str, int] = {}
    for i, task in enumerate(tasks):
        key = task_key(task.spec, task.subject, config, fingerprint)
        stored = None if config.force else store.load_ok(key, decoder=task.spec.name, subject=task.subject)
        if stored is not None:
            stored = _verified(stored, truth, store.path(key))
        if stored is not None:
            rows[i] = {**stored, "cached": True}
            continue
        index[key] = i
        label = {
            "pipeline": task.spec.name,
            "family": task.spec.family,
            "eligible": task.spec.ranked,
            "subject": task.subject,
            "split": dataset.ref(task.subject).split,
        }
        jobs.append(Job(key, (dataset, task, config), label))
    # the previous run's durations start the slowest decoders first (less idle tail)
    jobs = longest_first(jobs, previous_durations(out / TASKS_FILE), lambda job: job.label["pipeline"])
    if jobs and config.backend == "local":
        _warm_up(dataset)
    if len(jobs) < len(tasks):
        logger.info("%d of %d tasks reused from %s", len(tasks) - len(jobs), len(tasks), store.folder)
    journal = out / TASKS_FILE
    write_jsonl(journal, [r for r in rows if r is not None])  # this run's journal starts with the reused rows
    store_failure: EnvironmentFailure | None = None
    with (
        ExitStack() as resources,
        tqdm(total=len(jobs), disable=not config.progress, unit="task") as bar,
        _open_journal(journal) as log,
    ):
        for job, row in _execute(jobs, config, resources):
            row = {**_scored(row, truth), "key": job.key, "cached": False}
            try:
                store.save(job.key, row)
            except EnvironmentFailure as exc:  # this task's file: the others still run, the run exits 3
                logger.error("%s", exc)
                store_failure = store_failure or exc
            _append(log, journal, row)
            rows[index[job.key]] = row
            bar.set_postfix_str(f"{row['pipeline']} {row['subject']} {row['status']}")
            bar.update()
    done = [r for r in rows if r is not None]
    write_jsonl(journal, done)  # the same rows, in task order
    if store_failure is not None:
        raise store_failure
    return done


class _Truth:
    """What only the harness holds: each subject's imagine labels and count, read once per run."""

    def __init__(self, dataset: ChallengeDataset) -> None:
        self.dataset = dataset
        self._labels: dict[str, np.ndarray | None] = {}
        self._counts: dict[str, int] = {}

    def labels(self, subject: str) -> np.ndarray | None:
        """Imagine labels of a train subject in file order; None for a test subject."""
        if subject not in self._labels:
            split = self.dataset.ref(subject).split
            self._labels[subject] = self.dataset.imagine_labels(subject) if split == "train" else None
        return self._labels[subject]

    def n_imagine(self, subject: str) -> int:
        """Return the number of imagine epochs of ``subject``."""
        if subject not in self._counts:
            labels = self.labels(subject)
            self._counts[subject] = len(labels) if labels is not None else self.dataset.imagine_count(subject)
        return self._counts[subject]


def _scored(row: dict, truth: _Truth) -> dict:
    """Score a freshly computed row in this process; a subject whose labels cannot be read is an error."""
    if row.get("status") != "ok":
        row = dict(row)
        row.pop("_course", None)
        row.pop("_imagine_times", None)
        return row
    try:
        labels = truth.labels(row["subject"])
    except DatasetError as exc:
        row = {k: v for k, v in row.items() if not k.startswith("_")}
        return {**row, "status": "error", "error": f"scoring: {exc}"}
    return score_row(row, labels)


#: Numbers :func:`score_row` derives from a row's probabilities.
_DERIVED = ("score", "balanced_accuracy", "top3")


def _verified(stored: dict, truth: _Truth, path: Path) -> dict | None:
    """Check a stored ``ok`` row against the dataset and recompute its scores; None to rerun the task.

    A row whose trial ids, labels or shape disagree with the dataset is
    rerun (with a warning naming its file); one whose derived numbers differ
    from those recomputed from its probabilities gets the recomputed ones
    (with a warning).
    """
    subject = stored["subject"]
    try:
        n = truth.n_imagine(subject)
        labels = truth.labels(subject)
    except DatasetError as exc:
        logger.warning(
            "cannot check stored result %s against the dataset (%s); the task will rerun", path, exc
        )
        return None
    problem = None
    if stored["trial_idx"] != list(range(1, n + 1)):
        problem = f"its trial_idx are not 1..{n}, the dataset's imagine epochs of {subject}"
    elif len(stored["proba"]) != n:
        problem = f"it has {len(stored['proba'])} probability rows for {n} imagine epochs"
    elif labels is not None:
        y = np.searchsorted(np.asarray(CLASS_NAMES), labels).tolist()
        if stored.get("y_true") != y:
            problem = f"its y_true disagree with {subject}'s imagine labels"
    if problem is not None:
        logger.warning("ignoring stored result %s (%s); the task will rerun", path, problem)
        return None
    curve = {k: stored[k] for k in ("evidence_curve", "evidence_times", "evidence_error") if k in stored}
    rescored = {**score_row({k: v for k, v in stored.items() if k not in _DERIVED}, labels), **curve}
    changed = [k for k in _DERIVED if not _same(rescored[k], stored[k])]
    if changed:
        logger.warning(
            "stored result %s: %s differ(s) from what its probabilities give (%s); using recomputed values",
            path, ", ".join(changed), ", ".join(f"{k} {stored[k]!r} -> {rescored[k]!r}" for k in changed),
        )  # fmt: skip
    return rescored


def _same(a: float, b: float) -> bool:
    return bool((np.isnan(a) and np.isnan(b)) or np.isclose(a, b, rtol=0.0, atol=1e-9))


def _execute(jobs: Sequence[Job], config: RunConfig, resources: ExitStack) -> Iterator[tuple[Job, dict]]:
    """Run ``jobs`` on ``config.backend``; the dask client and the iterator close with ``resources``."""
    if config.backend == "dask" and jobs:
        client = resources.enter_context(
            dask_client(config.scheduler, n_workers=config.n_jobs, memory_limit_mb=config.max_memory_mb)
        )
        # each job enforces --timeout on its own task process; dask's limit is a backstop
        backstop = config.timeout + _DASK_GRACE if config.timeout else None
        results = execute_dask(run_task, jobs, client=client, timeout=backstop)
    else:
        results = execute(run_task, jobs, n_jobs=config.n_jobs)
    return resources.enter_context(closing(results))  # closed (tasks cancelled) before the client


#: Seconds dask waits past ``--timeout`` before cancelling a job (loading the subject included).
_DASK_GRACE = 120.0


def _warm_up(dataset: ChallengeDataset) -> None:
    """Read the dataset's reference header once, before the tasks' threads need it.

    Decoder code never runs here: not even a factory (it runs in task
    processes only, see :mod:`benchmark.sandbox`).
    """
    try:
        dataset.reference_header()
    except DatasetError:
        logger.debug("reference header unreadable; each task will report it", exc_info=True)


def write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    """Write one JSON row per line, atomically (temporary file renamed; removed on failure).

    Raises
    ------
    EnvironmentFailure
        On a full disk or an unwritable folder (the file is named).
    """
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def _open_journal(path: Path):
    try:
        return path.open("a")
    except OSError as exc:
        raise environment_failure(exc, path, "opening the task journal") from exc


def _append(log, path: Path, row: dict) -> None:
    """Append ``row`` to the journal and flush it, so a killed run keeps it."""
    try:
        log.write(json.dumps(row) + "\n")
        log.flush()
    except OSError as exc:
        raise environment_failure(exc, path, "appending to the task journal") from exc
