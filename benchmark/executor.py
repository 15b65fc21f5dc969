"""Run tasks ``n_jobs`` at a time, each a row dict; a task's failure is a row, never a stopped run.

:func:`execute` runs jobs in threads of the harness's process; each job
loads its subject there and hands the decoder's part to
:func:`benchmark.task_processes.run_isolated`, which forks a *task process*
that never holds labels, with a time and memory limit. Every task process
of the run is killed when the iteration stops (Ctrl-C, SIGTERM, an error).
:func:`benchmark.dask_backend.execute_dask` runs the same jobs on a
dask.distributed cluster, with the same ``(job, row)`` contract.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from benchmark.task_processes import ZYGOTE, ProcessGroups
from datasets.parallel import worker_count

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One call ``fn(*args)`` whose result is a row dict; ``label`` names it in errors."""

    key: str
    args: tuple
    label: dict


def effective_n_jobs(n_jobs: int) -> int:
    """Return the number of tasks ``n_jobs`` stands for: -1 is one per core, 0 is 1."""
    return worker_count(n_jobs, sys.maxsize)


def job_name(job: Job) -> str:
    """Return ``"decoder on subject"`` for log messages (the job's key if its label lacks them)."""
    decoder, subject = job.label.get("decoder"), job.label.get("subject")
    return f"{decoder} on {subject}" if decoder and subject else job.key


def failed_row(job: Job, status: str, message: str, wall: float) -> dict:
    """Return the row of a job that produced none: its label, ``status``, the message and its traceback."""
    message, _, trace = message.partition("\n")
    row = {**job.label, "status": status, "error": message, "wall_time": wall}
    if trace:
        row["traceback"] = trace
    return row


def execute(
    fn: Callable[..., dict],
    jobs: Sequence[Job],
    *,
    n_jobs: int = 1,
) -> Iterator[tuple[Job, dict]]:
    """Run ``fn(*job.args, groups=groups)`` for every job, ``n_jobs`` at a time; yield as they finish.

    ``fn`` runs in a thread of this process (it loads the data and runs the
    decoder through :func:`benchmark.task_processes.run_isolated`); ``groups`` tracks the task
    processes, all killed when the iteration stops (Ctrl-C, an error). The
    threads are daemon threads that are never joined: one still loading a
    subject when the run stops has its task process refused and ends on its
    own, and none can hold the interpreter's exit (a thread pool's are
    joined at exit).

    Parameters
    ----------
    fn : callable
        Returns a result row (a dict); should not raise (a raise becomes an ``error`` row).
    jobs : sequence of Job
        Work items, started in this order.
    n_jobs : int
        Tasks at once (-1: one per core).

    Yields
    ------
    job : Job
    row : dict
    """
    import queue

    jobs = list(jobs)
    groups = ProcessGroups()
    if jobs:
        ZYGOTE.ensure_running()  # from this thread: a child of the run's main thread, not of a task's
    todo: queue.SimpleQueue = queue.SimpleQueue()
    done: queue.SimpleQueue = queue.SimpleQueue()  # C-implemented: its get() is interrupted by Ctrl-C cleanly
    for job in jobs:
        todo.put(job)

    def work() -> None:
        while not groups.closed:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                row = fn(*job.args, groups=groups)
            except Exception as exc:  # noqa: BLE001 - the harness's own bug: keep the run going
                logger.exception("task %s failed in the harness", job_name(job))
                row = failed_row(job, "error", f"{type(exc).__name__}: {exc}", 0.0)
            done.put((job, row))

    for i in range(min(effective_n_jobs(n_jobs), len(jobs))):
        threading.Thread(target=work, name=f"task-{i}", daemon=True).start()
    try:
        for _ in jobs:
            yield done.get()
    finally:
        groups.close()
