"""Run tasks: decoder code in task processes that never hold labels, with a time and memory limit.

:func:`execute` runs jobs ``n_jobs`` at a time in threads of the harness's
process; each job loads its subject there and hands the decoder's part to
:func:`run_isolated`, which forks a *task process* from the zygote (a clean
interpreter, :mod:`benchmark.sandbox`) and sends it epochs only. Each task
process leads its own process group; the group is killed when the task
ends, whatever the decoder left running (non-daemon threads, child
processes), at ``timeout`` (status ``timeout``; ``oom`` if the process had
filled its ``max_memory_mb`` data segment), and when the run stops (Ctrl-C,
SIGTERM, an error). A decoder that exceeds the cap gets a
:class:`MemoryError` (status ``oom``); one that crashes the interpreter is
an ``error`` row. The run itself never stops for a task.

Task processes never outlive the run: on Linux the zygote and each task
process ask the kernel for ``SIGKILL`` when their parent dies
(``prctl(PR_SET_PDEATHSIG)``), so a ``kill -9`` of the run takes a decoder
stuck in a loop with it; elsewhere a watchdog thread does it. Task
processes are in their own sessions: a terminal's Ctrl-C reaches the run
only, which kills them itself.

:func:`execute_dask` runs the same jobs on a dask.distributed cluster (same
``(job, row)`` contract): on each worker, the job runs the decoder through
:func:`run_isolated` too. ``distributed`` is imported only there, so the
local backend never loads it.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.sandbox import die_with_parent  # noqa: F401 - public here since the first backend

if TYPE_CHECKING:
    from distributed import Client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One call ``fn(*args)`` whose result is a row dict; ``label`` names it in errors."""

    key: str
    args: tuple
    label: dict


def effective_n_jobs(n_jobs: int) -> int:
    """Return the number of tasks ``n_jobs`` stands for: -1 is one per core, 0 is 1."""
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


# ------------------------------------------------------------ task processes
class Zygote:
    """The harness's handle on its zygote: the clean process task processes are forked from.

    Started on first use with ``python -m benchmark.sandbox`` (a fresh
    interpreter: nothing of the run is in it) and kept for the life of this
    process; restarted if it died. See :mod:`benchmark.sandbox`.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    def _start(self) -> None:
        self.close()  # a zygote that died: its socket and process handle go first
        ours, theirs = socket.socketpair()
        paths = [p for p in sys.path if p]
        # one BLAS thread: task processes limit BLAS to one anyway, and a single-threaded zygote forks cleanly
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmark.sandbox", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self._control = ours

    def ensure_running(self) -> None:
        """Start the zygote now (in the calling thread) unless it runs."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()

    def spawn(self) -> tuple[int, Connection]:
        """Fork a task process; return its pid (also its process group) and a connection to it."""
        ours, theirs = socket.socketpair()
        try:
            with self._lock:
                for attempt in range(2):
                    if self._proc is None or self._proc.poll() is not None:
                        self._start()
                    try:
                        socket.send_fds(self._control, [b"t"], [theirs.fileno()])
                        reply = b""
                        while len(reply) < 8:
                            chunk = self._control.recv(8 - len(reply))
                            if not chunk:
                                raise OSError("the zygote closed its socket")
                            reply += chunk
                        break
                    except OSError:
                        self.close()
                        if attempt:
                            raise
        finally:
            theirs.close()
        return struct.unpack("q", reply)[0], Connection(ours.detach())

    def close(self) -> None:
        """End the zygote (its task processes die with it)."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


#: The zygote of this process (one per harness process, started on first use).
ZYGOTE = Zygote()


class ProcessGroups:
    """The live task processes of one run; :meth:`close` kills them all and refuses new ones."""

    def __init__(self) -> None:
        self._pids: set[int] = set()
        self._lock = threading.Lock()
        self.closed = False

    def add(self, pid: int) -> bool:
        """Track ``pid``; False (and the group killed) once closed."""
        with self._lock:
            if not self.closed:
                self._pids.add(pid)
                return True
        kill_group(pid)
        return False

    def discard(self, pid: int) -> None:
        """Stop tracking ``pid``."""
        with self._lock:
            self._pids.discard(pid)

    def close(self) -> None:
        """Kill every tracked process group; later :meth:`add` calls refuse."""
        with self._lock:
            self.closed = True
            pids, self._pids = list(self._pids), set()
        for pid in pids:
            kill_group(pid)


def kill_group(pid: int) -> None:
    """``SIGKILL`` the process group of ``pid`` (and ``pid`` itself, should it not lead one yet)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _memory_status_mb(pid: int) -> dict[str, float]:
    """``VmData`` and ``VmHWM`` of a process in MB (empty where /proc is missing)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmData", "VmHWM", "VmRSS") and value.strip().endswith("kB"):
            out[name] = int(value.split()[0]) / 1024
    return out


@dataclass
class Isolated:
    """What a task process returned: ``status`` ``done``, ``timeout``, ``oom`` or ``error``."""

    status: str
    fields: dict
    arrays: dict
    wall: float


def run_isolated(
    header: dict,
    arrays: dict,
    *,
    serve: Callable[[int], tuple[dict, dict]] | None = None,
    timeout: float | None = None,
    max_memory_mb: float | None = None,
    max_elements: int = 10**8,
    groups: ProcessGroups | None = None,
) -> Isolated:
    """Run one task's decoder code in a fresh task process (see :mod:`benchmark.sandbox`).

    Parameters
    ----------
    header, arrays : dict
        What the task process receives (:func:`benchmark.sandbox.send_task`).
    serve : callable or None
        ``serve(i)`` returns ``(header, arrays)`` of the ``i``-th other
        subject's localizer, when the decoder asks for it.
    timeout : float or None
        Seconds after which the task's process group is killed (``timeout``;
        ``oom`` when its data segment had reached the memory cap).
    max_memory_mb : float or None
        Data-segment cap (``RLIMIT_DATA``) of the task process.
    max_elements : int
        Largest array the harness accepts back.
    groups : ProcessGroups or None
        Where the live process is tracked (killed by its ``close``).

    Returns
    -------
    Isolated
        The process's JSON fields and float64 arrays, or a failure status
        with its message in ``fields["error"]``. Whatever happened, the
        task's process group is gone when this returns.
    """
    from benchmark.sandbox import read_message, send_task

    groups = groups if groups is not None else ProcessGroups()
    start = time.perf_counter()
    pid, conn = ZYGOTE.spawn()
    if not groups.add(pid):
        conn.close()
        return Isolated("error", {"error": "not run: the run was interrupted"}, {}, 0.0)
    try:
        send_task(conn, {**header, "max_memory_mb": max_memory_mb}, arrays)
        while True:
            remaining = None if timeout is None else timeout - (time.perf_counter() - start)
            if remaining is not None and remaining <= 0:
                return _overdue(pid, timeout, max_memory_mb, time.perf_counter() - start)
            if not wait([conn], remaining):
                continue
            meta, out = read_message(conn, max_elements=max_elements)
            if meta.get("kind") == "others" and serve is not None:
                send_task(conn, *serve(int(meta["index"])))
                continue
            return Isolated("done", meta, out, time.perf_counter() - start)
    except (EOFError, OSError):
        if groups.closed:
            message = "not finished: the run was interrupted"
        else:
            message = "the decoder's process died without a result (killed by the OS, or it crashed)"
        return Isolated("error", {"error": message}, {}, time.perf_counter() - start)
    except (ValueError, TypeError, KeyError) as exc:  # a malformed reply
        return Isolated("error", {"error": f"{exc}"}, {}, time.perf_counter() - start)
    finally:
        kill_group(pid)  # whatever the decoder left running: threads, child processes
        groups.discard(pid)
        conn.close()


def _overdue(pid: int, timeout: float, max_memory_mb: float | None, wall: float) -> Isolated:
    """Classify a task process past its time limit: ``oom`` if it had filled its memory cap."""
    used = _memory_status_mb(pid)
    # a decoder refused memory may not raise: OpenBLAS spins when it cannot map its buffers
    if max_memory_mb and used.get("VmData", 0.0) >= 0.9 * max_memory_mb:
        message = (
            f"killed after {timeout:g} s (--timeout) with its data segment at {used['VmData']:.0f} MB, "
            f"the --max-memory cap of {max_memory_mb:g} MB per task: out of memory"
        )
        return Isolated("oom", {"error": message}, {}, wall)
    return Isolated("timeout", {"error": f"killed after {timeout:g} s (--timeout)"}, {}, wall)


def execute(
    fn: Callable[..., dict],
    jobs: Sequence[Job],
    *,
    n_jobs: int = 1,
) -> Iterator[tuple[Job, dict]]:
    """Run ``fn(*job.args, groups=groups)`` for every job, ``n_jobs`` at a time; yield as they finish.

    ``fn`` runs in a thread of this process (it loads the data and runs the
    decoder through :func:`run_isolated`); ``groups`` tracks the task
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
                row = _failed_row(job, "error", f"{type(exc).__name__}: {exc}", 0.0)
            done.put((job, row))

    for i in range(min(effective_n_jobs(n_jobs), len(jobs))):
        threading.Thread(target=work, name=f"task-{i}", daemon=True).start()
    try:
        for _ in jobs:
            yield done.get()
    finally:
        groups.close()


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
