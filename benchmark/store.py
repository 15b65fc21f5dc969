"""Per-task result files: atomic writes, cache keys, resume.

Every finished task is written to ``<out>/cache/<key>.json`` through a
temporary file and :func:`os.replace`, so a killed run leaves either a whole
file or none. The key covers everything that changes a task's result: the
decoder's file and the private building blocks it may import, the harness's
scoring code, the dataset fingerprint, the subject, the seed, the localizer
folds and the versions of the numerical libraries. Re-running the same
command reads the ``ok`` results back and computes only what is missing (or
failed); changing any input changes the key and recomputes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec

logger = logging.getLogger(__name__)

#: Harness modules whose code decides a task's numbers.
_SCORING_MODULES = (
    "benchmark/runner.py",
    "benchmark/scoring.py",
    "benchmark/contract.py",
    "datasets/adapter.py",
)
_VERSIONED = ("mne", "scikit-learn", "pyriemann", "numpy", "scipy")
_ROOT = Path(__file__).resolve().parent.parent


@cache
def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _helpers_digest(decoder_file: Path) -> str:
    """Digest of the ``_``-prefixed modules beside a decoder file."""
    parts = [_file_digest(str(p)) for p in sorted(decoder_file.parent.glob("_*.py"))]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = []
    for name in _VERSIONED:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "absent"))
    return tuple(out)


def harness_version() -> str:
    """Digest of the harness code that computes scores."""
    return hashlib.sha256(
        "".join(_file_digest(str(_ROOT / m)) for m in _SCORING_MODULES).encode()
    ).hexdigest()[:16]


def task_key(spec: DecoderSpec, subject: str, config: RunConfig, fingerprint: str) -> str:
    """Cache key of one (decoder, subject) task.

    Parameters
    ----------
    spec : DecoderSpec
        The decoder; its file (``spec.module``) and sibling helper modules are hashed.
    subject : str
        Subject name.
    config : RunConfig
        Seed and localizer folds enter the key.
    fingerprint : str
        Dataset fingerprint.

    Returns
    -------
    str
        Hex digest, also the result file's stem.
    """
    module = Path(spec.module) if spec.module else None
    payload = {
        "decoder": spec.name,
        "decoder_file": _file_digest(str(module)) if module else "unknown",
        "helpers": _helpers_digest(module) if module else "unknown",
        "harness": harness_version(),
        "dataset": fingerprint,
        "subject": subject,
        "seed": config.seed,
        "localizer_folds": config.localizer_folds,
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


class ResultStore:
    """Folder of per-task result files.

    Parameters
    ----------
    folder : Path
        Where ``<key>.json`` files live (created if needed).

    Raises
    ------
    PermissionError
        If the folder cannot be written, with its path in the message.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".probe-"):
                pass
        except OSError as exc:
            raise PermissionError(
                f"Cannot write results to {self.folder} ({exc.strerror or exc}); choose another --out."
            ) from exc

    def path(self, key: str) -> Path:
        """File of the task with ``key``."""
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict | None:
        """Return the stored row for ``key``, or None if absent or unreadable."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("ignoring unreadable result file %s (%s); the task will rerun", path, exc)
            return None

    def save(self, key: str, row: dict) -> None:
        """Write ``row`` atomically (temporary file, fsync, rename)."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(row, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
