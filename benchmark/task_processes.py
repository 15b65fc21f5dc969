"""Task processes: decoder code in processes that never hold labels, with a time and memory limit.

:func:`run_isolated` forks a *task process* from the zygote (a clean
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
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

logger = logging.getLogger(__name__)


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
        self._pycache: str | None = None
        atexit.register(self.close)

    def _start(self) -> None:
        from benchmark.sandbox import PYCACHE_ENV

        self.close()  # a zygote that died: its socket and process handle go first
        ours, theirs = socket.socketpair()
        paths = [p for p in sys.path if p]
        # one BLAS thread: task processes limit BLAS to one anyway, and a single-threaded zygote forks cleanly
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
        if sys.dont_write_bytecode:  # the tasks keep what they compile here (benchmark.sandbox.keep_bytecode)
            self._pycache = tempfile.mkdtemp(prefix="imagine-bench-pycache-")
            env[PYCACHE_ENV] = self._pycache
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
        if self._pycache is not None:
            shutil.rmtree(self._pycache, ignore_errors=True)
            self._pycache = None


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
    localizer: dict | None = None,
    timeout: float | None = None,
    max_memory_mb: float | None = None,
    max_elements: int = 10**8,
    groups: ProcessGroups | None = None,
) -> Isolated:
    """Run one task's decoder code in a fresh task process (see :mod:`benchmark.sandbox`).

    Parameters
    ----------
    header, arrays : dict
        What the task process receives (:func:`benchmark.wire.send_task`).
    serve : callable or None
        ``serve(i)`` returns ``(header, arrays)`` of the ``i``-th other
        subject's localizer, when the decoder asks for it.
    localizer : dict or None
        ``{"X": epochs}`` held back from ``arrays`` (a shared fit was
        expected, :mod:`benchmark.fits`), sent if the task process asks.
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
    from benchmark.wire import read_message, send_task

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
            if meta.get("kind") == "localizer" and localizer is not None:
                send_task(conn, {}, localizer)
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
