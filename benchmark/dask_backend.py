"""Run tasks on a dask.distributed cluster, with :func:`benchmark.executor.execute`'s ``(job, row)`` contract.

On each worker, the job runs the decoder through
:func:`benchmark.task_processes.run_isolated` too. ``distributed`` is
imported only here, inside the functions, so the local backend never loads it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from benchmark.executor import Job, effective_n_jobs, failed_row, job_name

if TYPE_CHECKING:
    from distributed import Client

logger = logging.getLogger(__name__)

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
            name = "-".join(str(job.label.get(k, "")) for k in ("decoder", "subject"))
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
                    yield job, failed_row(job, "timeout", message, now - started[key])
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
        return failed_row(job, "error", "cancelled on the dask cluster (scheduler shut down?)", wall)
    try:
        return future.result()
    except Exception as exc:  # raised on the worker, or the worker died (KilledWorker)
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, KilledWorker):
            message += " (the worker died while running it: memory limit or crash; see the worker logs)"
        return failed_row(job, "error", message, wall)


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
