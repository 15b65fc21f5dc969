"""Run tasks in isolated worker processes, with a timeout and a memory cap.

Each task runs in its own forked process, at most ``n_jobs`` at a time, so a
decoder that hangs is killed at ``timeout`` (status ``timeout``), one that
exceeds ``max_memory_mb`` gets a :class:`MemoryError` (status ``oom``), and
one that crashes the interpreter (segfault, killed by the OS) is recorded as
an ``error`` with the exit code. The run itself never stops for a task.

Task processes never outlive the run: on Linux each asks the kernel for
``SIGKILL`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so a
``kill -9`` of the run takes a decoder stuck in a loop with it; elsewhere a
watchdog thread in the task ends it once its parent is gone. Task processes
ignore ``SIGINT``: Ctrl-C stops the run, which kills them itself.

:func:`execute_dask` runs the same jobs on a dask.distributed cluster (same
``(job, row)`` contract); ``distributed`` is imported only there, so the local
backend never loads it.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One call ``fn(*args)`` whose result is a row dict; ``label`` names it in errors."""

    key: str
    args: tuple
    label: dict


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> str:
    """Make this (forked) process end when ``parent_pid`` does; return the mechanism used.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes, the kernel
    kills this process when the thread that forked it exits. Elsewhere (or
    if prctl fails): a daemon thread that polls ``os.getppid()`` every
    second and exits the process once the parent is gone.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return "prctl"
        except (OSError, AttributeError):
            pass

    def watchdog() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watchdog, name="orphan-watchdog", daemon=True).start()
    return "watchdog"


def _child(
    fn: Callable[..., dict], args: tuple, conn: Connection, max_memory_mb: float | None, parent_pid: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent(parent_pid)
    try:
        if max_memory_mb:
            # RLIMIT_DATA counts the heap and private writable mappings (numpy's arrays), not
            # the shared libraries or the read-only mapped data cache that RLIMIT_AS also counts
            limit = int(max_memory_mb * 2**20)
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        row = fn(*args)
        conn.send(("ok", row))
    except MemoryError as exc:
        cap = f" (over the --max-memory cap of {max_memory_mb:g} MB per task)" if max_memory_mb else ""
        conn.send(("oom", f"MemoryError: {exc}{cap}"))
    except BaseException as exc:  # report anything rather than die silently
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-5)}"))
    finally:
        conn.close()


def effective_n_jobs(n_jobs: int) -> int:
    """Return the number of processes ``n_jobs`` stands for: -1 is one per core, 0 is 1."""
    return (mp.cpu_count() if n_jobs == -1 else n_jobs) or 1


def job_name(job: Job) -> str:
    """Return ``"decoder on subject"`` for log messages (the job's key if its label lacks them)."""
    pipeline, subject = job.label.get("pipeline"), job.label.get("subject")
    return f"{pipeline} on {subject}" if pipeline and subject else job.key


def _failed_row(job: Job, status: str, message: str, wall: float) -> dict:
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
    timeout: float | None = None,
    max_memory_mb: float | None = None,
) -> Iterator[tuple[Job, dict]]:
    """Run ``fn(*job.args)`` for every job in a separate process; yield as they finish.

    Parameters
    ----------
    fn : callable
        Returns a result row (a dict); must be importable (fork keeps it).
    jobs : sequence of Job
        Work items.
    n_jobs : int
        Processes at once (-1: one per core).
    timeout : float or None
        Seconds after which a job's process is killed.
    max_memory_mb : float or None
        Data-segment limit (``RLIMIT_DATA``: heap and private writable
        mappings) of each job's process; going over it raises
        :class:`MemoryError` in the job.

    Yields
    ------
    job : Job
    row : dict
        ``fn``'s row, or a row with status ``timeout``, ``oom`` or ``error``.
    """
    ctx = mp.get_context("fork")
    parent_pid = os.getpid()
    n_jobs = effective_n_jobs(n_jobs)
    queue = list(jobs)[::-1]
    running: dict[Connection, tuple[Job, Any, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < n_jobs:
                job = queue.pop()
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_child, args=(fn, job.args, child, max_memory_mb, parent_pid), daemon=True
                )
                proc.start()
                child.close()
                running[parent] = (job, proc, time.perf_counter())
            now = time.perf_counter()
            wait_for = None
            if timeout is not None:
                wait_for = max(0.0, min(start + timeout - now for _, _, start in running.values()))
            ready = wait(list(running), timeout=wait_for)
            for conn in ready:
                job, proc, start = running.pop(conn)
                wall = time.perf_counter() - start
                try:
                    status, payload = conn.recv()
                except (EOFError, OSError):
                    proc.join()
                    yield (
                        job,
                        _failed_row(job, "error", f"worker process died (exit code {proc.exitcode})", wall),
                    )
                    continue
                finally:
                    conn.close()
                proc.join()
                if status == "ok":
                    yield job, payload
                else:
                    yield job, _failed_row(job, status, payload, wall)
            if timeout is not None:
                now = time.perf_counter()
                for conn in [c for c, (_, _, s) in running.items() if now - s >= timeout]:
                    job, proc, start = running.pop(conn)
                    proc.kill()
                    proc.join()
                    conn.close()
                    logger.warning("task %s exceeded the %g s timeout and was killed", job_name(job), timeout)
                    yield (
                        job,
                        _failed_row(job, "timeout", f"killed after {timeout:g} s (--timeout)", now - start),
                    )
    finally:
        for _, proc, _ in running.values():
            proc.kill()
            proc.join()


# ---------------------------------------------------------------- dask backend
#: Seconds between checks for finished or overdue tasks in :func:`execute_dask`.
_DASK_POLL = 0.1


def _dask_call(payload: bytes, topic: str, key: str) -> dict:
    """Run on a dask worker: announce that ``key`` starts (its timeout clock), then call the job.

    The job arrives pickled (``(fn, args)``) and is unpickled here, inside the
    task: a module the worker cannot import (a decoder package missing on
    the workers) then fails this task with its message, instead of breaking
    the worker's connection to the scheduler, which would lose the worker.
    """
    import pickle

    from distributed import get_worker

    get_worker().log_event(topic, key)
    try:
        fn, args = pickle.loads(payload)
    except ImportError as exc:
        raise ImportError(f"{exc} on dask worker {get_worker().address}: install the package there "
                          "or put it on the workers' sys.path") from exc  # fmt: skip
    return fn(*args)


def execute_dask(
    fn: Callable[..., dict],
    jobs: Sequence[Job],
    *,
    client: Client,
    timeout: float | None = None,
) -> Iterator[tuple[Job, dict]]:
    """Run ``fn(*job.args)`` for every job on a dask cluster; yield as they finish.

    Each job is one ``client.submit`` (``pure=False``) of ``fn`` and its
    arguments, pickled (for the runner: the dataset's paths, the task and the
    config, a few kB; never arrays): workers read the data themselves, so
    the data path must be on a filesystem every worker sees. A module the
    workers cannot import (the decoder package, say) fails that job with an
    ``error`` row naming it.

    Parameters
    ----------
    fn : callable
        Returns a result row (a dict); its module must be importable on the workers.
    jobs : sequence of Job
        Work items.
    client : distributed.Client
        Connected to the cluster that runs the jobs.
    timeout : float or None
        Seconds, counted from the moment a worker starts the job, after which
        its future is cancelled and the job recorded as ``timeout``. Dask
        cannot interrupt a running thread: the worker keeps computing the
        task until it returns (the result is discarded) and runs nothing else
        on that thread meanwhile. Bound runaway tasks on the workers, e.g.
        ``dask worker --lifetime 2h --lifetime-restart`` or the walltime of a
        dask-jobqueue job.

    Yields
    ------
    job : Job
    row : dict
        ``fn``'s row, or a row with status ``timeout`` or ``error`` (the
        exception raised on the worker, or a worker that died).
    """
    import cloudpickle
    from distributed import as_completed

    if not client.nthreads():
        logger.warning("the dask cluster has no workers yet: tasks wait until workers join it")
    run_id = uuid.uuid4().hex[:8]
    topic = f"imagine-bench-start-{run_id}"
    started: dict[str, float] = {}  # dask key -> local clock when a worker started it

    def on_start(event: tuple[float, str]) -> None:  # runs in the client's event-loop thread
        started[event[1]] = time.perf_counter()

    client.subscribe_topic(topic, on_start)
    pending: dict[str, tuple[Job, Any, float]] = {}
    try:
        for job in jobs:
            name = "-".join(str(job.label.get(k, "")) for k in ("pipeline", "subject"))
            key = f"{name}-{job.key[:12]}-{run_id}"
            payload = cloudpickle.dumps((fn, job.args))  # small: paths, the task, the config
            future = client.submit(_dask_call, payload, topic, key, key=key, pure=False)
            pending[key] = (job, future, time.perf_counter())
        finished = as_completed([f for _, f, _ in pending.values()], loop=client.loop)
        while pending:
            batch = finished.next_batch(block=False)
            for future in batch:
                if future.key not in pending:  # already recorded as a timeout
                    continue
                job, _, submitted = pending.pop(future.key)
                yield job, _dask_row(job, future, time.perf_counter() - started.get(future.key, submitted))
            if timeout is not None:
                now = time.perf_counter()
                overdue = [k for k in pending if k in started and now - started[k] >= timeout]
                for key in overdue:
                    job, future, _ = pending.pop(key)
                    future.cancel()
                    logger.warning(
                        "task %s exceeded the %g s timeout; cancelled (its dask worker keeps "
                        "computing it until it returns)", job_name(job), timeout,
                    )  # fmt: skip
                    message = f"cancelled after {timeout:g} s (--timeout); the dask worker finishes it anyway"
                    yield job, _failed_row(job, "timeout", message, now - started[key])
            if pending and not batch:
                time.sleep(_DASK_POLL)
    finally:
        if pending:
            client.cancel([future for _, future, _ in pending.values()])
        client.unsubscribe_topic(topic)


def _dask_row(job: Job, future, wall: float) -> dict:
    """Return a finished dask future's row: its result, or an ``error`` row."""
    from distributed import KilledWorker

    if future.status == "cancelled":
        return _failed_row(job, "error", "cancelled on the dask cluster (scheduler shut down?)", wall)
    try:
        return future.result()
    except Exception as exc:  # raised on the worker, or the worker died (KilledWorker)
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, KilledWorker):
            message += " (the worker died while running it: memory limit or crash; see the worker logs)"
        return _failed_row(job, "error", message, wall)


@contextmanager
def dask_client(
    scheduler: str | None = None, *, n_workers: int = 2, memory_limit_mb: float | None = None
) -> Iterator[Client]:
    """Connect to a dask scheduler, or start a local cluster for the duration of the block.

    Parameters
    ----------
    scheduler : str or None
        Address of a running scheduler (``tcp://host:8786``); the cluster is
        left running on exit. None starts a ``LocalCluster`` (one process per
        worker, one thread each) and closes it on exit.
    n_workers : int
        Workers of the local cluster (-1: one per core).
    memory_limit_mb : float or None
        Memory limit of each local worker (dask's nanny restarts a worker
        above it, and the task ends as an ``error``); None lets dask split
        the machine's memory between the workers.

    Yields
    ------
    distributed.Client
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        if memory_limit_mb:
            logger.warning(
                "--max-memory is not applied to an existing dask cluster; "
                "start its workers with --memory-limit instead"
            )
        with Client(scheduler) as client:
            logger.info("dask scheduler %s, dashboard %s", scheduler, client.dashboard_link)
            yield client
        return
    n_workers = effective_n_jobs(n_workers)
    memory = int(memory_limit_mb * 2**20) if memory_limit_mb else "auto"
    # dashboard on a free port: the default 8787 may be taken (dask then warns)
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        logger.info("local dask cluster of %d workers, dashboard %s", n_workers, client.dashboard_link)
        yield client
