"""One writer per output folder, and report sets that are replaced whole.

:class:`OutputLock` holds ``fcntl.flock`` on ``<out>/.lock`` for the length
of a run, with the holder's PID, start time and command written in the file:
a second run into the same folder stops at once and names the first. The
kernel releases the lock when its holder dies, so a lock left by a killed run
is simply taken over (and said so in the log).

Publishing a report set whole is :mod:`benchmark.publish`'s job; writing one
file whole is :mod:`benchmark.files`'.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmark.errors import EnvironmentFailure, OutputBusyError, OutputPathError
from benchmark.files import environment_failure

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class OutputLock:
    """Exclusive lock of an output folder for one run (a context manager).

    Parameters
    ----------
    out : Path
        The output folder (created if missing).
    command : str or None
        Recorded in the lock file (default: this process's command line).

    Raises
    ------
    OutputBusyError
        If another live process holds the lock.
    OutputPathError
        If ``out`` exists and is not a folder.
    EnvironmentFailure
        If the folder or its lock file cannot be written.
    """

    def __init__(self, out: Path, command: str | None = None) -> None:
        self.out = Path(out)
        self.path = self.out / LOCK_FILE
        self.command = command if command is not None else " ".join([Path(sys.executable).name, *sys.argv])
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        if self.out.exists() and not self.out.is_dir():
            raise OutputPathError(
                f"--out {self.out} is a file, not a folder; choose a folder for the reports."
            )
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise EnvironmentFailure(
                exc.errno,
                f"Cannot write results to {self.out} ({exc.strerror or exc}); choose another --out.",
            ) from exc
        try:
            import fcntl
        except ImportError:  # not POSIX: no locking, said once
            logger.warning("no fcntl on this platform: %s is not protected from a second run", self.out)
            self._fd = fd
            return self
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_fd(fd).strip().replace("\n", ", ") or "an unknown process"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputBusyError(
                    f"{self.out} is being written by another run ({holder}). Wait for it to finish, "
                    "or give this run another --out: two runs into one folder would lose rows."
                ) from None
            raise EnvironmentFailure(exc.errno, f"Cannot lock {self.path} ({exc.strerror or exc}).") from exc
        previous = _read_fd(fd)
        pid = _holder_pid(previous)
        if pid is not None and pid != os.getpid():
            state = "no longer running" if not _pid_alive(pid) else "its lock released"
            logger.info("taking over %s from PID %d (%s)", self.path, pid, state)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        text = f"pid {os.getpid()}\nstarted {started}\ncommand {self.command}\n"
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise environment_failure(exc, self.path, "writing the lock file") from exc
        self._fd = fd
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is None:
            return
        try:  # the file stays: unlinking it could let two later runs lock two different files
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        os.close(self._fd)  # releases the flock
        self._fd = None


def _read_fd(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode(errors="replace")
    except OSError:
        return ""


def _holder_pid(text: str) -> int | None:
    for line in text.splitlines():
        if line.startswith("pid "):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None
