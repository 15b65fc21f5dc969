"""Run tasks in isolated worker processes, with a timeout and a memory cap.

Each task runs in its own forked process, at most ``n_jobs`` at a time, so a
decoder that hangs is killed at ``timeout`` (status ``timeout``), one that
exceeds ``max_memory_mb`` gets a :class:`MemoryError` (status ``oom``), and
one that crashes the interpreter (segfault, killed by the OS) is recorded as
an ``error`` with the exit code. The run itself never stops for a task.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One call ``fn(*args)`` whose result is a row dict; ``label`` names it in errors."""

    key: str
    args: tuple
    label: dict


def _child(fn: Callable[..., dict], args: tuple, conn: Connection, max_memory_mb: float | None) -> None:
    try:
        if max_memory_mb:
            limit = int(max_memory_mb * 2**20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        row = fn(*args)
        conn.send(("ok", row))
    except MemoryError:
        conn.send(("oom", traceback.format_exc(limit=3)))
    except BaseException as exc:  # report anything rather than die silently
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _failed_row(job: Job, status: str, message: str, wall: float) -> dict:
    return {**job.label, "status": status, "error": message, "wall_time": wall}


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
        Address-space limit of each job's process.

    Yields
    ------
    job : Job
    row : dict
        ``fn``'s row, or a row with status ``timeout``, ``oom`` or ``error``.
    """
    ctx = mp.get_context("fork")
    n_jobs = (mp.cpu_count() if n_jobs == -1 else n_jobs) or 1
    queue = list(jobs)[::-1]
    running: dict[Connection, tuple[Job, Any, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < n_jobs:
                job = queue.pop()
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, job.args, child, max_memory_mb), daemon=True)
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
                    yield job, _failed_row(
                        job, "error", f"worker process died (exit code {proc.exitcode})", wall
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
                    logger.warning("task %s exceeded the %.0f s timeout and was killed", job.label, timeout)
                    yield job, _failed_row(job, "timeout", f"killed after {timeout:g} s (--timeout)", now - start)
    finally:
        for _, proc, _ in running.values():
            proc.kill()
            proc.join()
