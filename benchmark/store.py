"""Per-task result files: atomic writes, cache keys, resume.

Every finished task is written to ``<out>/cache/<key>.json`` through a
temporary file and :func:`os.replace`, so a killed run leaves either a whole
file or none. A stored file is trusted only if it parses, matches its key
(decoder, subject) and passes :func:`row_problem` (required fields, their
types, probabilities of the right shape); anything else is logged with its
path and the task recomputed. The key covers everything that changes a task's result: the
decoder's file and every project file it imports, directly or through
another decoder it builds on (:func:`import_closure`), the harness's
scoring code, the dataset fingerprint, the subject, the seed, the localizer
folds and the versions of Python and of every library that computes
(MOABB included). The runner then checks a reused row against the dataset
and recomputes its scores (:func:`benchmark.rescoring.verified`). Re-running the same
command reads the ``ok`` results back and computes only what is missing (or
failed); changing any input changes the key and recomputes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec
from benchmark.errors import EnvironmentFailure
from benchmark.files import environment_failure
from benchmark.journal import current_names

logger = logging.getLogger(__name__)

#: Harness modules whose code decides a task's numbers.
_SCORING_MODULES = (
    "benchmark/runner.py",
    "benchmark/tasks.py",
    "benchmark/rescoring.py",
    "benchmark/sandbox.py",
    "benchmark/scoring.py",
    "benchmark/contract.py",
    "datasets/adapter.py",
    "datasets/reading.py",
    "datasets/records.py",
    "datasets/header_facts.py",
    "datasets/subject_cache.py",
)
#: Every library that computes a task's numbers (and Python itself, in :func:`_versions`).
_VERSIONED = ("mne", "scikit-learn", "pyriemann", "moabb", "numpy", "scipy", "pandas", "threadpoolctl")
_ROOT = Path(__file__).resolve().parent.parent


@cache
def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


@cache
def _module_file(name: str, roots: tuple[Path, ...]) -> Path | None:
    """Return the file of module ``name`` under one of ``roots`` (a package's ``__init__.py``), or None.

    Looked up once per process (like :func:`_file_digest`): every task's key
    resolves the same names.
    """
    parts = name.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _imported_names(path: Path, package: str) -> frozenset[str]:
    """Absolute names of the modules ``path`` imports (``from a import b`` yields ``a`` and ``a.b``).

    Parsed once per content (:func:`_file_digest`) and package: every task's
    key walks the same files.
    """
    return _names_in(str(path), _file_digest(str(path)), package)


@cache
def _names_in(path: str, digest: str, package: str) -> frozenset[str]:
    """:func:`_imported_names` of the file ``path`` whose content has ``digest``."""
    import ast

    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):  # imports inside functions too: factories import lazily
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return frozenset(names)


def import_closure(path: Path, roots: tuple[Path, ...] = (_ROOT,)) -> list[Path]:
    """Return ``path`` and every file under ``roots`` it imports, directly or not, sorted.

    Found by reading the files' import statements (:mod:`ast`), without
    importing anything; modules outside ``roots`` (installed libraries) are
    left to :func:`_versions`. Parent packages' ``__init__.py`` files count too.

    Parameters
    ----------
    path : Path
        A module file (a decoder).
    roots : tuple of Path
        Folders that hold the project's top-level packages.
    """
    path = Path(path).resolve()
    roots = tuple(Path(r).resolve() for r in roots)
    seen: set[Path] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        package = ""
        for root in roots:
            if current.is_relative_to(root):
                parts = current.relative_to(root).with_suffix("").parts
                # the package a relative import starts from: the module's own for an __init__.py
                package = ".".join(parts[:-1])
                break
        for name in _imported_names(current, package):
            pieces = name.split(".")
            for i in range(1, len(pieces) + 1):  # a.b.c imports a and a.b too
                found = _module_file(".".join(pieces[:i]), roots)
                if found is not None and found.resolve() not in seen:
                    todo.append(found.resolve())
    return sorted(seen)


def _package_root(module: Path) -> Path:
    """Return the folder above the top-level package holding ``module``."""
    folder = module.resolve().parent
    while (folder / "__init__.py").is_file():
        folder = folder.parent
    return folder


def _code_digest(decoder_file: Path) -> str:
    """Digest of a decoder's code: its file and every project file it imports (its import closure).

    A decoder that is not a Python file (a MOABB pipeline YAML) is run by
    the helpers beside it: their closure is hashed.
    """
    roots = tuple(dict.fromkeys((_ROOT, _package_root(decoder_file))))
    if decoder_file.suffix == ".py":
        files = import_closure(decoder_file, roots)
    else:
        files = [decoder_file.resolve()]
        for helper in sorted(decoder_file.parent.glob("_*.py")):
            files += import_closure(helper, roots)
    parts = [f"{p.name}:{_file_digest(str(p))}" for p in sorted(set(files))]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
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


def task_fields(spec: DecoderSpec, config: RunConfig) -> dict:
    """Return the parts of a task's key that decide its decoder's fit: code, versions, seed, folds.

    Parameters
    ----------
    spec : DecoderSpec
        The decoder; its file (``spec.module``) and its import closure in the
        project (:func:`import_closure`) are hashed.
    config : RunConfig
        Seed and localizer folds.

    Returns
    -------
    dict
        JSON-ready fields (also the fit key's, :func:`benchmark.fits.fit_key`).
    """
    module = Path(spec.module) if spec.module else None
    return {
        "decoder": spec.name,
        "code": _code_digest(module) if module else "unknown",
        "harness": harness_version(),
        "seed": config.seed,
        "localizer_folds": config.localizer_folds,
        "versions": _versions(),
    }


def task_key(
    spec: DecoderSpec, subject: str, config: RunConfig, fingerprint: str, fields: dict | None = None
) -> str:
    """Cache key of one (decoder, subject) task.

    Parameters
    ----------
    spec : DecoderSpec
        The decoder (:func:`task_fields`).
    subject : str
        Subject name.
    config : RunConfig
        Seed and localizer folds enter the key.
    fingerprint : str
        Dataset fingerprint.
    fields : dict or None
        ``task_fields(spec, config)`` when already computed (once per decoder
        for a run's tasks: it hashes the decoder's import closure).

    Returns
    -------
    str
        Hex digest, also the result file's stem.
    """
    fields = task_fields(spec, config) if fields is None else fields
    payload = {**fields, "dataset": fingerprint, "subject": subject}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


_N_CLASSES = 10
_STR_FIELDS = ("key", "decoder", "family", "subject", "split", "status", "error")
_INT_FIELDS = ("n_localizer", "n_imagine", "channels")
_NUMBER_FIELDS = ("imagine_accuracy", "balanced_accuracy", "top3", "localizer_accuracy", "wall_time",
                  "fit_time", "predict_time", "time")  # fmt: skip


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
    expected = {"key": key, "decoder": decoder, "subject": subject, "status": "ok"}
    for name, value in expected.items():
        if row[name] != value:
            return f"{name} is {row[name]!r}, expected {value!r}"
    if row["split"] not in ("train", "test"):
        return f"split is {row['split']!r}, expected 'train' or 'test'"
    if not isinstance(row.get("ranked"), bool):
        return "field 'ranked' missing or not true/false"
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
        if not math.isfinite(row["imagine_accuracy"]):
            return "imagine_accuracy of a train subject is not finite"
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
        """Return the stored row for ``key``, or None if absent or unreadable (logged with its path).

        A file written under the rows' old field names is read under today's
        (:func:`benchmark.journal.current_names`).
        """
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            row = current_names(json.loads(path.read_bytes().decode("utf-8")))
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
