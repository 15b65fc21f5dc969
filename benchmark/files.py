"""File-system primitives of the harness: atomic writes, JSON objects, machine failures.

The lowest layer of :mod:`benchmark`: it imports only :mod:`benchmark.errors`,
so every module that writes a file (the store, the journal, the output folder,
the reports) shares one definition of "written whole or not at all" and one
rule for telling a failure of the machine (exit code 3) from bad input.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

from benchmark.errors import EnvironmentFailure, ReportInputError

__all__ = ["ENVIRONMENT_ERRNOS", "environment_failure", "read_json_object", "write_text_atomic"]

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


def read_json_object(path: Path) -> dict:
    """Read a JSON object from ``path``; ReportInputError naming the file if it is not one."""
    try:
        value = json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path} is not valid JSON ({exc}).") from exc
    if not isinstance(value, dict):
        raise ReportInputError(f"{path}: expected a JSON object, got {type(value).__name__}.")
    return value
