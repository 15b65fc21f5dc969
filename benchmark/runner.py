"""Run (decoder, subject) tasks and record one result row per task.

Each task loads its subject itself (never all subjects at once), builds a
fresh estimator from the decoder's factory for every fit, cross-validates on
the localizer with the frozen shared folds, fits on the whole localizer,
predicts the imagine epochs and scores them. A task that raises becomes an
``error`` row with its message, the line it was raised at and a short
traceback; the run goes on. Each row is stored in ``cache/<key>.json`` (see
:mod:`benchmark.store`) and appended to ``tasks.jsonl`` as its task
finishes, so an interrupted run keeps what it computed and a rerun resumes.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmark import scoring
from benchmark.config import RunConfig
from benchmark.contract import DecoderContext, DecoderSpec, TaskMemo
from benchmark.errors import DatasetError, DecoderOutputError
from benchmark.executor import Job, dask_client, execute, execute_dask
from benchmark.journal import TASKS_FILE, append_row, open_journal, previous_durations, write_rows
from benchmark.memory import PeakMemory
from benchmark.schedule import longest_first
from benchmark.store import ResultStore, task_key
from datasets.adapter import ChallengeDataset, SubjectData
from datasets.layout import CLASS_NAMES
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
    proba = np.asarray(proba, dtype=float)
    classes = [str(c) for c in getattr(estimator, "classes_", CLASS_NAMES)]
    if sorted(classes) != sorted(CLASS_NAMES):
        raise DecoderOutputError(f"decoder {name!r}: classes_ must be the ten item names, got {classes}.")
    if proba.shape != (n_epochs, len(CLASS_NAMES)):
        raise DecoderOutputError(
            f"decoder {name!r}: expected probabilities of shape ({n_epochs}, {len(CLASS_NAMES)}), "
            f"got {proba.shape}."
        )
    if not np.isfinite(proba).all():
        raise DecoderOutputError(f"decoder {name!r}: probabilities contain NaN or inf.")
    if (proba < -1e-9).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4):
        raise DecoderOutputError(
            f"decoder {name!r}: probabilities must be non-negative and sum to 1 per epoch."
        )
    return proba[:, [classes.index(c) for c in CLASS_NAMES]]


def fit_params(spec: DecoderSpec, data: SubjectData, dataset: ChallengeDataset) -> dict:
    """Return the keyword arguments of ``fit`` that ``spec.uses`` asks for.

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
        lazy :class:`OtherLocalizers`), ``truth`` and ``memo`` (a new
        :class:`~benchmark.contract.TaskMemo`: call once per task and pass
        the same dict to every fit of it) as requested.

    Raises
    ------
    DatasetError
        If ``truth`` is requested and the dataset has no ground truth.
    """
    params: dict = {}
    if "imagine" in spec.uses:
        params["X_imagine"] = data.imagine.X
    if "others" in spec.uses:  # subjects a header check found unusable are left out
        others = [s for s in dataset.subjects if s != data.subject and s not in dataset.excluded]
        params["others"] = OtherLocalizers(dataset, others)
    if "truth" in spec.uses:
        truth_dir = find_truth_dir(dataset.root)
        truth = load_subject_truth(truth_dir, data.subject) if truth_dir else None
        if truth is None:
            raise DatasetError(
                f"decoder {spec.name!r} needs the simulation's ground truth, which {dataset.root} "
                "does not have (it exists only for simulated datasets)."
            )
        params["truth"] = truth
    if "memo" in spec.uses:
        params["memo"] = TaskMemo()
    return params


def run_task(dataset: ChallengeDataset, task: Task, config: RunConfig) -> dict:
    """Run one task and return its result row; never raises for decoder errors.

    Parameters
    ----------
    dataset : ChallengeDataset
        Where the subject's data is read from.
    task : Task
        Decoder and subject.
    config : RunConfig
        Seed, folds and parallelism.

    Returns
    -------
    dict
        The result row (see :mod:`benchmark.report` for the columns), with
        ``proba`` (imagine probabilities as nested lists) when it succeeded.
    """
    from threadpoolctl import threadpool_limits

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
    memory = PeakMemory()
    try:
        # one BLAS thread per task, always: OpenBLAS's own threads made even
        # serial runs 2.5x slower on 2 cores (docs/performance.md)
        with memory, threadpool_limits(limits=1):
            row.update(_run_task_body(dataset, spec, subject, config))
    except Exception as exc:  # a contributor's decoder may raise anything
        row["status"] = (
            "invalid"
            if isinstance(exc, DecoderOutputError)
            else "oom"
            if isinstance(exc, MemoryError)
            else "error"
        )
        row["error"] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, MemoryError) and config.max_memory_mb:
            row["error"] += f" (over the --max-memory cap of {config.max_memory_mb:g} MB per task)"
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            where = frames[-1]
            row["error_at"] = f"{where.filename}:{where.lineno} in {where.name}"
        row["traceback"] = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
        logger.warning("decoder %r failed on %s: %s", spec.name, subject, row["error"])
        logger.debug("traceback:\n%s", row["traceback"])
    row["wall_time"] = time.perf_counter() - start
    row["peak_memory_mb"] = memory.peak_mb
    row["memory_method"] = memory.method
    return row


def _run_task_body(dataset: ChallengeDataset, spec: DecoderSpec, subject: str, config: RunConfig) -> dict:
    data = dataset.load(subject)
    context = make_context(data, config.seed)
    X, y = data.localizer.X, data.localizer_labels
    kwargs = fit_params(spec, data, dataset)
    out: dict = {
        "split": data.split,
        "n_localizer": int(len(X)),
        "n_imagine": int(len(data.imagine.X)),
        "channels": int(X.shape[1]),
    }

    fold_scores = []
    # oracles read the truth: their localizer accuracy would say nothing about them
    if config.localizer_folds and spec.ranked:
        y_idx = np.searchsorted(np.asarray(CLASS_NAMES), y)
        for train, test in scoring.localizer_splits(
            y, subject=subject, seed=config.seed, n_splits=config.localizer_folds
        ):
            estimator = spec.factory(context)
            estimator.fit(X[train], y[train], **kwargs)
            proba = ordered_proba(estimator, estimator.predict_proba(X[test]), len(test), spec.name)
            fold_scores.append(scoring.accuracy(proba, y_idx[test]))
    out["localizer_accuracy"] = float(np.mean(fold_scores)) if fold_scores else float("nan")

    estimator = spec.factory(context)
    t0 = time.perf_counter()
    estimator.fit(X, y, **kwargs)
    t1 = time.perf_counter()
    course = None
    if data.split == "train" and pools_time_course(estimator):  # the course is plotted too: compute it once
        course = estimator.imagine_time_course(data.imagine.X)
        proba = estimator.pool_time_course(course)
    else:
        proba = estimator.predict_proba_imagine(data.imagine.X)
    t2 = time.perf_counter()
    proba = ordered_proba(estimator, proba, len(data.imagine.X), spec.name)
    out.update(fit_time=t1 - t0, predict_time=t2 - t1, time=t2 - t0)
    out["trial_idx"] = data.imagine.trial_idx.tolist()
    out["proba"] = np.round(proba, 6).tolist()

    if data.split == "train":
        labels = dataset.imagine_labels(subject)
        y_img = np.searchsorted(np.asarray(CLASS_NAMES), labels)
        counts = np.bincount(y_img, minlength=len(CLASS_NAMES))
        out["score"] = scoring.accuracy(proba, y_img)
        out["balanced_accuracy"] = scoring.balanced_assignment_accuracy(proba, y_img, counts)
        out["top3"] = scoring.top_k_accuracy(proba, y_img, k=3)
        out["y_true"] = y_img.tolist()
        if hasattr(estimator, "imagine_time_course"):  # optional: evidence curve for the report
            out.update(_evidence_curve(estimator, data, y_img, spec.name, course))
    else:
        out["score"] = out["balanced_accuracy"] = out["top3"] = float("nan")
    return out


def pools_time_course(estimator) -> bool:
    """Whether the estimator's imagine probabilities are its time course pooled (optional contract)."""
    return hasattr(estimator, "imagine_time_course") and hasattr(estimator, "pool_time_course")


def _evidence_curve(
    estimator, data: SubjectData, y_img: np.ndarray, name: str, course: np.ndarray | None = None
) -> dict:
    """True-class evidence over imagine time, for plots; a failure here never fails the task.

    ``course`` is the estimator's ``imagine_time_course`` when the task has
    already computed it (None: computed here).
    """
    from benchmark.stats import true_class_evidence

    try:
        if course is None:
            course = estimator.imagine_time_course(data.imagine.X)
        curve = true_class_evidence(course, y_img, estimator.classes_, CLASS_NAMES)
    except Exception as exc:  # optional output of a contributor's decoder
        logger.warning("decoder %r: imagine_time_course failed on %s (%s)", name, data.subject, exc)
        return {"evidence_error": f"{type(exc).__name__}: {exc}"}
    return {
        "evidence_curve": np.round(curve, 6).tolist(),
        "evidence_times": np.round(data.imagine.times[: len(curve)], 6).tolist(),
    }


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
    rows: list[dict | None] = [None] * len(tasks)
    jobs: list[Job] = []
    index: dict[str, int] = {}
    for i, task in enumerate(tasks):
        key = task_key(task.spec, task.subject, config, fingerprint)
        stored = None if config.force else store.load_ok(key, decoder=task.spec.name, subject=task.subject)
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
    if jobs and config.backend == "local":  # dask workers are not forked from this process
        _warm_up(dataset, {job.args[1].spec.name: job.args[1].spec for job in jobs}.values(), config)
    if len(jobs) < len(tasks):
        logger.info("%d of %d tasks reused from %s", len(tasks) - len(jobs), len(tasks), store.folder)
    journal = out / TASKS_FILE
    write_rows(journal, [r for r in rows if r is not None])  # this run's journal starts with the reused rows
    with (
        ExitStack() as resources,
        tqdm(total=len(jobs), disable=not config.progress, unit="task") as bar,
        open_journal(journal) as log,
    ):
        for job, row in _execute(jobs, config, resources):
            row = {**row, "key": job.key, "cached": False}
            store.save(job.key, row)
            append_row(log, journal, row)
            rows[index[job.key]] = row
            bar.set_postfix_str(f"{row['pipeline']} {row['subject']} {row['status']}")
            bar.update()
    done = [r for r in rows if r is not None]
    write_rows(journal, done)  # the same rows, in task order
    return done


def _execute(jobs: Sequence[Job], config: RunConfig, resources: ExitStack) -> Iterator[tuple[Job, dict]]:
    """Run ``jobs`` on ``config.backend``; the dask client and the iterator close with ``resources``."""
    if config.backend == "dask" and jobs:
        client = resources.enter_context(
            dask_client(config.scheduler, n_workers=config.n_jobs, memory_limit_mb=config.max_memory_mb)
        )
        results = execute_dask(run_task, jobs, client=client, timeout=config.timeout)
    else:
        results = execute(
            run_task, jobs, n_jobs=config.n_jobs, timeout=config.timeout, max_memory_mb=config.max_memory_mb
        )
    return resources.enter_context(closing(results))  # closed (tasks cancelled) before the client


def _warm_up(dataset: ChallengeDataset, specs, config: RunConfig) -> None:
    """Import in the parent what every forked task would otherwise import again.

    Workers are forked per task; modules imported here (MNE's readers, each
    decoder's factory imports) and the dataset's reference header are
    inherited instead of being loaded once per task.
    """
    import mne.epochs  # noqa: F401
    import threadpoolctl  # noqa: F401

    try:
        dataset.reference_header()
    except DatasetError:
        logger.debug("reference header unreadable; each task will report it", exc_info=True)
    probe = DecoderContext(
        sfreq=100.0,
        localizer_times=np.zeros(1),
        imagine_times=np.zeros(1),
        ch_types=("mag",),
        classes=CLASS_NAMES,
        random_state=config.seed,
    )
    for spec in specs:
        try:
            spec.factory(probe)
        except Exception:  # noqa: BLE001 - the task itself will report it
            logger.debug("warm-up of %r failed", spec.name, exc_info=True)
