"""Run (decoder, subject) tasks and record one result row per task.

Each task loads its subject in the harness's process (never all subjects at
once) and hands the decoder's part to a task process that holds epochs and
never an imagine label (:mod:`benchmark.sandbox`): the localizer epochs and
labels, the shared localizer folds, and the imagine epochs in a fresh
random order without trial ids. There a fresh estimator is built from the
decoder's factory for every fit, cross-validated on the localizer, fitted
on the whole localizer, and asked for the imagine probabilities. Back here
they are mapped to the file's trial order and scored against the labels
only this process reads (:func:`benchmark.rescoring.score_row`). A task that raises becomes an
``error`` row with its message, the line it was raised at and a short
traceback; the run goes on. Each row is stored in ``cache/<key>.json`` (see
:mod:`benchmark.store`) and appended to ``tasks.jsonl`` as its task
finishes, so an interrupted run keeps what it computed and a rerun resumes.
A stored row is checked against the dataset and rescored, never trusted
(:func:`verified`).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from pathlib import Path

import numpy as np

from benchmark import sandbox
from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec
from benchmark.dask_backend import dask_client, execute_dask
from benchmark.errors import DatasetError, EnvironmentFailure
from benchmark.executor import Job, execute
from benchmark.journal import TASKS_FILE, append_row, open_journal, previous_durations, write_rows
from benchmark.rescoring import Truth, score_row, scored, verified
from benchmark.schedule import longest_first
from benchmark.store import ResultStore, task_fields, task_key
from benchmark.task_processes import ProcessGroups, run_isolated
from benchmark.tasks import OtherLocalizers, PreparedTask, Task, fit_files, prepare_task, serve_others
from datasets.adapter import ChallengeDataset
from datasets.layout import CLASS_NAMES

logger = logging.getLogger(__name__)


def run_task(
    dataset: ChallengeDataset,
    task: Task,
    config: RunConfig,
    fit_file: Path | None = None,
    base_fits: dict[str, Path] | None = None,
    groups: ProcessGroups | None = None,
) -> dict:
    """Run one task and return its unscored result row; never raises for decoder errors.

    This process loads the subject; the decoder runs in a task process
    (:func:`benchmark.task_processes.run_isolated`) that receives the epochs only.
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
    fit_file : Path or None
        The task's shared fit (:func:`benchmark.tasks.fit_files`), or None.
    base_fits : dict of str to Path, or None
        The shared fits of the decoders it builds on, by name.
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
        "decoder": spec.name,
        "family": spec.family,
        "ranked": spec.ranked,
        "subject": subject,
        "split": dataset.ref(subject).split,
        "status": "ok",
        "error": "",
    }
    start = time.perf_counter()
    try:
        prepared = prepare_task(dataset, spec, subject, config, fit_file=fit_file, base_fits=base_fits)
    except Exception as exc:  # the subject's files: named in the message
        row.update(_error_fields(exc, "error"))
        row["wall_time"] = time.perf_counter() - start
        if groups is None or not groups.closed:
            logger.warning("decoder %r failed on %s: %s", spec.name, subject, row["error"])
        return row
    n = len(prepared.order)
    header, arrays, held = prepared.header, prepared.arrays, None
    if fit_file is not None and fit_file.is_file():  # the fit is expected: its localizer only if asked for
        header, held = {**header, "localizer_deferred": True}, {"X": arrays["X"]}
        arrays = {k: v for k, v in arrays.items() if k != "X"}
    result = run_isolated(
        header,
        arrays,
        serve=serve_others(dataset, prepared.others),
        localizer=held,
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
         "peak_memory_mb", "memory_method", "evidence_error", "fit_reused", "fit_cache_error",
         "fit_bases_reused")  # fmt: skip


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
    from benchmark.task_processes import Isolated

    row = _task_fields(prepared, Isolated("done", {"status": "ok", **fields}, arrays, 0.0))
    labels = dataset.imagine_labels(subject) if prepared.data.split == "train" else None
    return score_row(row, labels)


def pools_time_course(estimator) -> bool:
    """Whether the estimator's imagine probabilities are its time course pooled (optional contract)."""
    return sandbox.pools_time_course(estimator)


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
    truth = Truth(dataset)
    rows: list[dict | None] = [None] * len(tasks)
    jobs: list[Job] = []
    index: dict[str, int] = {}
    pending: list[tuple[int, str, Task]] = []
    fields: dict[str, dict] = {}  # each decoder's code is hashed once per run
    for i, task in enumerate(tasks):
        if task.spec.name not in fields:
            fields[task.spec.name] = task_fields(task.spec, config)
        key = task_key(task.spec, task.subject, config, fingerprint, fields[task.spec.name])
        stored = None if config.force else store.load_ok(key, decoder=task.spec.name, subject=task.subject)
        if stored is not None:
            stored = verified(stored, truth, store.path(key))
        if stored is not None:
            rows[i] = {**stored, "cached": True}
            continue
        pending.append((i, key, task))
    shared = fit_files(dataset, [task for _, _, task in pending], config, fields)
    for i, key, task in pending:
        index[key] = i
        label = {
            "decoder": task.spec.name,
            "family": task.spec.family,
            "ranked": task.spec.ranked,
            "subject": task.subject,
            "split": dataset.ref(task.subject).split,
        }
        fit_file = shared.get((task.spec.name, task.subject))
        bases = {
            b.name: shared[b.name, task.subject] for b in task.spec.bases if (b.name, task.subject) in shared
        }
        jobs.append(Job(key, (dataset, task, config, fit_file, bases), label))
    # the previous run's durations start the slowest decoders first (less idle tail)
    jobs = longest_first(jobs, previous_durations(out / TASKS_FILE), lambda job: job.label["decoder"])
    if jobs and config.backend == "local":
        _warm_up(dataset)
    if len(jobs) < len(tasks):
        logger.info("%d of %d tasks reused from %s", len(tasks) - len(jobs), len(tasks), store.folder)
    journal = out / TASKS_FILE
    write_rows(journal, [r for r in rows if r is not None])  # this run's journal starts with the reused rows
    store_failure: EnvironmentFailure | None = None
    with (
        ExitStack() as resources,
        tqdm(total=len(jobs), disable=not config.progress, unit="task") as bar,
        open_journal(journal) as log,
    ):
        for job, row in _execute(jobs, config, resources):
            row = {**scored(row, truth), "key": job.key, "cached": False}
            try:
                store.save(job.key, row)
            except EnvironmentFailure as exc:  # this task's file: the others still run, the run exits 3
                logger.error("%s", exc)
                store_failure = store_failure or exc
            append_row(log, journal, row)
            rows[index[job.key]] = row
            bar.set_postfix_str(f"{row['decoder']} {row['subject']} {row['status']}")
            bar.update()
    done = [r for r in rows if r is not None]
    write_rows(journal, done)  # the same rows, in task order
    if store_failure is not None:
        raise store_failure
    return done


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
