"""One writer per output folder, and report sets that are replaced whole.

:class:`OutputLock` holds ``fcntl.flock`` on ``<out>/.lock`` for the length
of a run, with the holder's PID, start time and command written in the file:
a second run into the same folder stops at once and names the first. The
kernel releases the lock when its holder dies, so a lock left by a killed run
is simply taken over (and said so in the log).

:func:`publish_reports` writes the report set into a temporary folder inside
``<out>`` and renames its entries into place only once every file is
written: a failure (full disk, a bug in a report writer) leaves the previous
complete set and no temporary file behind.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmark.errors import EnvironmentFailure, OutputBusyError, OutputPathError

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
#: errno values that mean "the machine", not "the input": exit code 3.
ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOMEM}
)


def environment_failure(exc: OSError, path: Path, doing: str) -> OSError:
    """Return an :class:`EnvironmentFailure` naming ``path`` for a machine-level ``exc``, else ``exc``.

    Parameters
    ----------
    exc : OSError
        The error raised while writing.
    path : Path
        The file or folder being written.
    doing : str
        What was being done, e.g. ``"writing the reports"``.
    """
    if isinstance(exc, EnvironmentFailure) or exc.errno not in ENVIRONMENT_ERRNOS:
        return exc
    hint = {
        errno.ENOSPC: "free some space",
        errno.EDQUOT: "free some space (disk quota exceeded)",
        errno.EROFS: "choose a writable --out",
        errno.EACCES: "choose a writable --out or fix its permissions",
        errno.EPERM: "choose a writable --out or fix its permissions",
    }.get(exc.errno, "check the disk")
    failure = EnvironmentFailure(
        exc.errno, f"{doing}: {path}: {exc.strerror or exc}; {hint} and rerun (finished tasks are kept)"
    )
    failure.filename = str(path)
    return failure


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


def publish_reports(
    rows: Sequence[dict], out: Path, run_info: dict, *, record_history: bool = False, n_jobs: int = 1
):
    """Write the report set of ``rows`` into ``out`` all at once.

    The reports are written into ``<out>/.reports-XXXX/`` by
    :func:`benchmark.report.write_reports` (``runtime.md`` is copied there
    first, so its other sections are kept, and so are ``history.csv``, which
    ``record_history`` appends to, and a robustness run's ``robustness.csv``
    and ``robustness.md``, which the page shows), then each entry is renamed into
    ``out`` (a folder such as ``figures/`` replaces the old one whole).
    Renames need no space, so a full disk or an exception in a writer leaves
    the previous complete set; only a kill during the final renames
    (microseconds) could mix two sets. ``n_jobs`` processes draw the
    figures.

    Returns
    -------
    pandas.DataFrame
        The leaderboard.

    Raises
    ------
    EnvironmentFailure
        On a full disk, a read-only or unwritable folder (the path is named).
    """
    from benchmark.report import write_reports

    out = Path(out)
    staging = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".reports-"))
        for kept in ("runtime.md", "history.csv", "robustness.csv", "robustness.md"):
            if (out / kept).is_file():
                shutil.copy2(out / kept, staging / kept)
        board = write_reports(rows, staging, run_info, record_history=record_history, n_jobs=n_jobs)
        _swap_in(staging, out)
        logger.info("report set published in %s", out)
    except OSError as exc:
        raise environment_failure(exc, out, "writing the reports") from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return board


def _swap_in(staging: Path, out: Path) -> None:
    """Rename every entry of ``staging`` into ``out``; old folders go to a trash folder first."""
    trash = Path(tempfile.mkdtemp(dir=out, prefix=".reports-old-"))
    try:
        entries = sorted(staging.iterdir(), key=lambda p: (p.name == "index.html", p.name))
        for entry in entries:  # index.html last: it links to everything else
            target = out / entry.name
            if entry.is_dir() and target.is_dir():
                os.replace(target, trash / entry.name)
            os.replace(entry, target)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place (removed on failure)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as open() would create it (mkstemp makes 0600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise environment_failure(exc, path, "writing") from exc
        raise


#: Run information of the journal (``tasks.jsonl``) being written, beside the result files.
JOURNAL_INFO = Path("cache") / "journal" / "run.json"


def write_journal_info(out: Path, run_info: dict, *, complete: bool) -> None:
    """Record which run ``<out>/tasks.jsonl`` is the journal of, and whether it finished.

    Written when a run starts (``complete=False``) and again once its
    reports are published; a run killed in between leaves ``complete``
    false, and :func:`load_for_report` then rebuilds the reports of what it
    finished.
    """
    info = {"complete": complete, "run_info": {**run_info, **({} if complete else {"interrupted": True})}}
    try:
        (Path(out) / JOURNAL_INFO).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_failure(exc, Path(out) / JOURNAL_INFO, "writing the journal") from exc
    write_text_atomic(Path(out) / JOURNAL_INFO, json.dumps(info, indent=2, default=str) + "\n")


def load_for_report(folder: Path) -> tuple[list[dict], dict]:
    """Rows and run information to rebuild the reports of ``folder`` from.

    Those of :func:`benchmark.report.load_run` (``tasks.jsonl`` and
    ``run.json``), unless the journal belongs to a run that did not finish
    (killed, interrupted, or stopped by an error): then its rows, in task
    order, with that run's information marked ``"interrupted": true``.
    """
    from benchmark.report import load_run
    from benchmark.runner import TASKS_FILE

    folder = Path(folder)
    try:
        journal = json.loads((folder / JOURNAL_INFO).read_text())
    except (OSError, ValueError):
        journal = None
    tasks = folder / TASKS_FILE
    if not isinstance(journal, dict) or journal.get("complete", True) or not tasks.is_file():
        return load_run(folder)
    run_info = journal.get("run_info", {})
    rows = []
    for line in tasks.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut by the kill
            logger.warning("%s: skipping a truncated line", tasks)
    decoders = {n: i for i, n in enumerate(run_info.get("decoders", []))}
    subjects = {n: i for i, n in enumerate(run_info.get("subjects", []))}
    rows.sort(key=lambda r: (decoders.get(r["pipeline"], len(decoders)), r["pipeline"],
                             subjects.get(r["subject"], len(subjects)), r["subject"]))  # fmt: skip
    logger.warning("%s is the journal of a run that did not finish (started %s): reporting its %d rows",
                   tasks, run_info.get("started_utc", "?"), len(rows))  # fmt: skip
    return rows, run_info
