"""Per-task result files: atomic writes, cache keys, resume.

Every finished task is written to ``<out>/cache/<key>.json`` through a
temporary file and :func:`os.replace`, so a killed run leaves either a whole
file or none. A stored file is trusted only if it parses, matches its key
(decoder, subject) and passes :func:`row_problem` (required fields, their
types, probabilities of the right shape); anything else is logged with its
path and the task recomputed. The key covers everything that changes a task's result: the
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
import math
import os
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec
from benchmark.errors import EnvironmentFailure

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


_N_CLASSES = 10
_STR_FIELDS = ("key", "pipeline", "family", "subject", "split", "status", "error")
_INT_FIELDS = ("n_localizer", "n_imagine", "channels")
_NUMBER_FIELDS = ("score", "balanced_accuracy", "top3", "localizer_accuracy", "wall_time", "fit_time",
                  "predict_time", "time")  # fmt: skip


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def row_problem(row, *, key: str, decoder: str, subject: str) -> str | None:
    """Say what is wrong with a stored ``ok`` row, or return None if it can be reused.

    Parameters
    ----------
    row : object
        What the result file held.
    key, decoder, subject : str
        What the file's name (its key) says it holds.

    Returns
    -------
    str or None
        The first problem found, in words.
    """
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    for name in _STR_FIELDS:
        if not isinstance(row.get(name), str):
            return f"field {name!r} missing or not a string"
    expected = {"key": key, "pipeline": decoder, "subject": subject, "status": "ok"}
    for name, value in expected.items():
        if row[name] != value:
            return f"{name} is {row[name]!r}, expected {value!r}"
    if row["split"] not in ("train", "test"):
        return f"split is {row['split']!r}, expected 'train' or 'test'"
    if not isinstance(row.get("eligible"), bool):
        return "field 'eligible' missing or not true/false"
    for name in _INT_FIELDS:
        if not _is_int(row.get(name)) or row[name] < 0:
            return f"field {name!r} missing or not a non-negative integer"
    for name in _NUMBER_FIELDS:
        if not _is_number(row.get(name)):
            return f"field {name!r} missing or not a number"
    n = row["n_imagine"]
    trial_idx, proba = row.get("trial_idx"), row.get("proba")
    if not isinstance(trial_idx, list) or len(trial_idx) != n or not all(_is_int(t) for t in trial_idx):
        return f"trial_idx is not a list of {n} integers"
    if not isinstance(proba, list) or len(proba) != n:
        return f"proba is not a list of {n} rows"
    for i, p in enumerate(proba):
        if (
            not isinstance(p, list)
            or len(p) != _N_CLASSES
            or not all(_is_number(v) and math.isfinite(v) and v >= -1e-9 for v in p)
            or abs(sum(p) - 1.0) > 1e-3
        ):
            return f"proba row {i} is not {_N_CLASSES} non-negative numbers summing to 1"
    if row["split"] == "train":
        y_true = row.get("y_true")
        if not isinstance(y_true, list) or len(y_true) != n:
            return f"y_true is not a list of {n} class indices"
        if not all(_is_int(y) and 0 <= y < _N_CLASSES for y in y_true):
            return f"y_true holds values outside 0..{_N_CLASSES - 1}"
        if not math.isfinite(row["score"]):
            return "score of a train subject is not finite"
    return None


class ResultStore:
    """Folder of per-task result files.

    Parameters
    ----------
    folder : Path
        Where ``<key>.json`` files live (created if needed).

    Raises
    ------
    EnvironmentFailure
        If the folder cannot be written, with its path in the message.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".probe-"):
                pass
        except OSError as exc:
            raise EnvironmentFailure(
                exc.errno,
                f"Cannot write results to {self.folder} ({exc.strerror or exc}); choose another --out.",
            ) from exc

    def path(self, key: str) -> Path:
        """File of the task with ``key``."""
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict | None:
        """Return the stored row for ``key``, or None if absent or unreadable (logged with its path)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            row = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            logger.warning("ignoring unreadable result file %s (%s); the task will rerun", path, exc)
            return None
        if not isinstance(row, dict):
            logger.warning("ignoring result file %s (a JSON %s, not an object); the task will rerun",
                           path, type(row).__name__)  # fmt: skip
            return None
        return row

    def load_ok(self, key: str, *, decoder: str, subject: str) -> dict | None:
        """Return the stored ``ok`` row of ``key`` if it passes :func:`row_problem`, else None.

        A row that is not ``ok`` (failed before) is silently recomputed; one
        that claims ``ok`` but fails the checks is logged with its path and
        what is wrong, then recomputed (and its file replaced).
        """
        row = self.load(key)
        if row is None or row.get("status") != "ok":
            return None
        problem = row_problem(row, key=key, decoder=decoder, subject=subject)
        if problem is not None:
            logger.warning("ignoring result file %s (%s); the task will rerun", self.path(key), problem)
            return None
        return row

    def save(self, key: str, row: dict) -> None:
        """Write ``row`` atomically (temporary file, fsync, rename).

        Raises
        ------
        EnvironmentFailure
            On a full disk or an unwritable folder (the file is named).
        """
        from benchmark.outdir import environment_failure

        fd, tmp = None, None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}-", suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump(row, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path(key))
        except BaseException as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                failure = environment_failure(exc, self.path(key), "storing a task's result")
                if not isinstance(failure, EnvironmentFailure):  # e.g. a folder where the file should be
                    failure = EnvironmentFailure(
                        exc.errno,
                        f"storing a task's result: {self.path(key)}: {exc.strerror or exc}; make that path "
                        "a writable file location (or choose another --out) and rerun "
                        "(finished tasks are kept)",
                    )
                    failure.filename = str(self.path(key))
                raise failure from exc
            raise
