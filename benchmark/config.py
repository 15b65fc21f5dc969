"""The run configuration: one frozen dataclass, and the one path that builds it from every source.

A run's options come from the command line, a config file (TOML, YAML,
JSON) or a finished run's ``run.json``. Each source's keys pass through
:func:`run_fields` (one alias table, :data:`ALIASES`; one set of type
checks), the sources are merged, and :func:`build_run_config` makes the
:class:`RunConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

#: Where tasks can run (see :mod:`benchmark.executor`).
BACKENDS = ("local", "dask")
#: Folds of the shared localizer cross-validation unless a run says otherwise (``run --localizer-folds``).
DEFAULT_LOCALIZER_FOLDS = 2


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's results.

    Attributes
    ----------
    data : Path
        Dataset root in the challenge layout.
    out : Path
        Folder for reports.
    decoders : tuple of str or None
        Decoder names; None runs every registered decoder.
    subjects : tuple of str or None
        Subject names; None runs every subject.
    n_jobs : int
        Parallel tasks (joblib); BLAS is limited to one thread per task when > 1.
    seed : int
        Seed handed to every decoder as ``random_state`` and to the folds.
    localizer_folds : int
        Folds of the shared localizer cross-validation of the ranked decoders
        (0 skips it). :data:`DEFAULT_LOCALIZER_FOLDS` (2) by default: the
        cross-validation is a diagnostic, every epoch is still tested once,
        and each further fold costs about another fit per task
        (docs/performance.md).
    progress : bool
        Show a progress bar over tasks.
    timeout : float or None
        Seconds after which a task is killed and recorded as ``timeout``.
    max_memory_mb : float or None
        Address-space cap per task; exceeding it records ``oom``.
    force : bool
        Recompute every task instead of reusing stored results.
    data_cache : Path or None
        Folder of the memory-mapped array cache of validated subject data
        (None: read the FIF files every time).
    backend : {"local", "dask"}
        Where tasks run: ``"local"`` forks one process per task on this
        machine; ``"dask"`` submits them to a dask.distributed cluster.
    scheduler : str or None
        Address of a running dask scheduler (``tcp://host:8786``); None with
        ``backend="dask"`` starts a ``LocalCluster`` for the run.
    moabb_pipelines : tuple of Path or None
        MOABB pipeline YAML files, or folders of them, registered as decoders
        beside the ``decoders`` package (:func:`benchmark.registry.discover`);
        None: none.
    fit_cache : Path or None
        Folder where a decoder fitted on the localizers only is stored and
        reused by a later task whose fit reads identical inputs (the cells
        of one regime at several transfer weights; :mod:`benchmark.fits`);
        None: every task fits its own.
    """

    data: Path
    out: Path
    decoders: tuple[str, ...] | None = None
    subjects: tuple[str, ...] | None = None
    n_jobs: int = 1
    seed: int = 0
    localizer_folds: int = DEFAULT_LOCALIZER_FOLDS
    progress: bool = True
    timeout: float | None = 1800.0
    max_memory_mb: float | None = None
    force: bool = False
    data_cache: Path | None = None
    backend: str = "local"
    scheduler: str | None = None
    moabb_pipelines: tuple[Path, ...] | None = None
    fit_cache: Path | None = None

    def __post_init__(self) -> None:
        if self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs must be a positive integer or -1, got {self.n_jobs}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}.")
        if self.max_memory_mb is not None and not self.max_memory_mb > 0:
            raise ValueError(
                f"max_memory_mb must be positive megabytes (or unset: no cap), got {self.max_memory_mb}."
            )
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {self.timeout}.")
        if self.localizer_folds == 1 or self.localizer_folds < 0:
            raise ValueError(f"localizer_folds must be 0 (skip) or >= 2, got {self.localizer_folds}.")
        if self.backend not in BACKENDS:
            allowed = " and ".join(repr(b) for b in BACKENDS)
            raise ValueError(f"backend: allowed values are {allowed}, but got {self.backend!r}.")
        if self.scheduler is not None and self.backend != "dask":
            raise ValueError(
                f"a scheduler address ({self.scheduler!r}) is only used with backend='dask', "
                f"got backend={self.backend!r}; add --backend dask or drop --scheduler."
            )

        if self.moabb_pipelines is not None and (
            not isinstance(self.moabb_pipelines, tuple)
            or not all(isinstance(p, Path) for p in self.moabb_pipelines)
        ):
            raise ValueError(
                f"moabb_pipelines must be a tuple of paths (or None), got {self.moabb_pipelines!r}."
            )

    def to_dict(self) -> dict:
        """JSON-ready representation (paths as absolute strings: a replay works from any folder).

        ``moabb_pipelines`` and ``fit_cache`` are left out when None, so that
        the ``run.json`` of a run without them reads as it did before the
        fields existed.
        """
        out = {}
        for name, value in asdict(self).items():
            if name == "fit_cache" and value is None:
                continue
            if name == "moabb_pipelines":
                if value is None:
                    continue
                value = [_absolute(p) for p in value]
            out[name] = _absolute(value) if isinstance(value, Path) else value
        return out


def _absolute(path: Path) -> str:
    return str(Path(path).expanduser().resolve())


#: Where the command line's defaults differ from :class:`RunConfig`'s (a library call stays serial and
#: reads the FIF files unless told otherwise; ``run`` uses every core and the array cache, ``True``
#: standing for :func:`datasets.default.array_cache_dir`).
COMMAND_LINE_DEFAULTS = {"out": Path("reports"), "n_jobs": -1, "data_cache": True}


def command_line_default(name: str):
    """Default of ``run``'s option for field ``name``: :data:`COMMAND_LINE_DEFAULTS`, else RunConfig's.

    Raises
    ------
    KeyError
        If ``name`` is not a RunConfig field.
    """
    if name in COMMAND_LINE_DEFAULTS:
        return COMMAND_LINE_DEFAULTS[name]
    default = {f.name: f.default for f in fields(RunConfig)}[name]
    return None if default is MISSING else default


# ------------------------------------------------------------ options of every source
#: Option names every source may use: RunConfig's fields and ``all`` (every decoder).
FILE_KEYS = ("all", *(f.name for f in fields(RunConfig)))

#: The one alias table: the command line's (and a config file's) spellings -> RunConfig fields.
#: ``no_progress`` and ``no_data_cache`` are negations (:data:`_NEGATED`).
ALIASES = {
    "decoder": "decoders",
    "subject": "subjects",
    "max_memory": "max_memory_mb",
    "no_progress": "progress",
    "no_data_cache": "data_cache",
}

#: Negated options: value given -> value of the field (``data_cache`` True: the default array cache).
_NEGATED = {
    "no_progress": lambda value: not value,
    "no_data_cache": lambda value: None if value else True,
}

#: Options that are never RunConfig fields: how the command line was given, not what the run is.
_NOT_OPTIONS = ("command", "verbose", "config")

#: Placeholder written into published run.json files for the cache folder.
CACHE_PLACEHOLDER = "$IMAGINE_BENCH_HOME"


def expand_path(value: str | Path) -> Path:
    """Reverse :func:`benchmark.runinfo.portable_paths`: ``$IMAGINE_BENCH_HOME/...`` and ``~/...``."""
    from datasets.default import cache_home

    text = str(value)
    if text == CACHE_PLACEHOLDER or text.startswith(CACHE_PLACEHOLDER + "/"):
        return cache_home() / text[len(CACHE_PLACEHOLDER) :].lstrip("/")
    return Path(text).expanduser()


def read_config_file(path: Path) -> dict:
    """Read the run options of a TOML, YAML or JSON file (a finished run's ``run.json`` included).

    Parameters
    ----------
    path : Path
        ``.toml``, ``.yaml``/``.yml`` or ``.json``. Keys are the long options
        of ``python -m benchmark run`` (``n_jobs`` or ``n-jobs``, ``decoder``
        or ``decoders``, ``all``, ``no_progress``, ...); a ``run.json``'s
        ``config`` block is read as such.

    Returns
    -------
    dict
        RunConfig field names to values (``all`` kept as a bool; paths as
        :class:`~pathlib.Path`, placeholders expanded).

    Raises
    ------
    ConfigError
        If the file is missing, unreadable, or sets an unknown option or a
        value of the wrong type; the message names the file.
    """
    from benchmark.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found.")
    suffix = path.suffix.lower()
    try:
        text = path.read_text()
        if suffix == ".toml":
            import tomllib

            raw = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:
                raise ConfigError(f"{path}: reading YAML needs PyYAML (pip install pyyaml).") from exc
            raw = yaml.safe_load(text) or {}
        elif suffix == ".json":
            import json

            raw = json.loads(text)
        else:
            raise ConfigError(f"{path}: config files are .toml, .yaml, .yml or .json, got {suffix!r}.")
    except ConfigError:
        raise
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # tomllib, json, yaml errors are ValueErrors
        raise ConfigError(f"{path} is not a valid {suffix[1:].upper()} file: {exc}") from exc
    except Exception as exc:  # yaml.YAMLError is not a ValueError
        raise ConfigError(f"{path} is not a valid {suffix[1:].upper()} file: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a table of options, got {type(raw).__name__}.")
    from_run = isinstance(raw.get("config"), dict) and "fingerprint" in raw
    options = raw["config"] if from_run else raw.get("run", raw)
    out = run_fields(options, str(path), from_run=from_run)
    if (
        from_run
    ):  # a replay never writes where the recorded run wrote (a checkout's reports/) unless --out says so
        out["out"] = replay_folder(path)
    return out


def replay_folder(run_json: Path) -> Path:
    """Default output folder of a replayed ``run.json``: ``$IMAGINE_BENCH_HOME/replays/<folder>-<digest>``.

    Outside any checkout, the same for every replay of one run folder (so a
    replay resumes), whatever the working directory; ``--out`` overrides it.
    """
    import hashlib

    from datasets.default import cache_home

    folder = Path(run_json).expanduser().resolve().parent
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
    return cache_home() / "replays" / f"{folder.name}-{digest}"


def run_fields(options: Mapping, source: str, *, from_run: bool = False) -> dict:
    """Options of any source, by any spelling -> RunConfig field names and checked values.

    The one reader of option names (:data:`ALIASES`) for the command line,
    config files and ``run.json``.

    Parameters
    ----------
    options : mapping
        Option names (``n-jobs`` or ``n_jobs``, ``decoder`` or ``decoders``,
        ``no_progress``, ``all``, ...) to values; the parser's ``command``,
        ``verbose`` and ``config`` are skipped.
    source : str
        Where the options come from, for error messages (a file's path).
    from_run : bool
        The options are a ``run.json``'s ``config`` block, which records
        ``--all`` as ``decoders: null``.

    Returns
    -------
    dict
        Field names (and ``all``) to values: names as tuples, paths as
        :class:`~pathlib.Path` with placeholders expanded, ``data_cache``
        True for the default array cache.

    Raises
    ------
    ConfigError
        If an option is unknown or a value has the wrong type; the message
        names ``source``.
    """
    import difflib

    from benchmark.errors import ConfigError

    out: dict = {}
    for key, value in options.items():
        spelled = str(key).replace("-", "_")
        if spelled in _NOT_OPTIONS:
            continue
        name = ALIASES.get(spelled, spelled)
        if name not in FILE_KEYS:
            close = difflib.get_close_matches(name, FILE_KEYS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Valid options: {', '.join(FILE_KEYS)}."
            raise ConfigError(f"{source}: unknown option {key!r}.{hint}")
        out[name] = _NEGATED[spelled](value) if spelled in _NEGATED else value
    for name in ("decoders", "subjects"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = "all" if value == "all" and name == "decoders" else (value,)
        if out.get(name) == "all":
            out.pop(name)
            out["all"] = True
        elif value is not None and not isinstance(value, str):
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {name} must be a list of names, got {value!r}.")
            out[name] = tuple(value)
    if from_run and out.get("decoders") is None:
        out["all"] = True  # run.json records --all as decoders: null
        out.pop("decoders", None)
    for name in ("data", "out"):
        if out.get(name) is not None:
            out[name] = expand_path(out[name])
    for name in ("data_cache", "fit_cache"):
        if isinstance(out.get(name), str | Path):
            out[name] = expand_path(out[name])
    pipelines = out.get("moabb_pipelines")
    if isinstance(pipelines, str | Path):
        pipelines = [pipelines]
    if pipelines is not None:
        if not isinstance(pipelines, list | tuple) or not all(isinstance(p, str | Path) for p in pipelines):
            raise ConfigError(f"{source}: moabb_pipelines must be a list of paths, got {pipelines!r}.")
        out["moabb_pipelines"] = tuple(expand_path(p) for p in pipelines) or None
    types = {"n_jobs": int, "seed": int, "localizer_folds": int, "timeout": (int, float),
             "max_memory_mb": (int, float), "progress": bool, "force": bool, "all": bool}  # fmt: skip
    for name, kind in types.items():
        value = out.get(name)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            wanted = getattr(kind, "__name__", "a number")
            raise ConfigError(f"{source}: {name} must be {wanted}, got {value!r}.")
    return out


def build_run_config(options: Mapping) -> RunConfig:
    """Build the :class:`RunConfig` of merged options (:func:`run_fields` of every source).

    The one constructor of a run's configuration from the command line,
    config files and ``run.json``: ``all`` runs every decoder (``decoders``
    None), ``data_cache`` True is the default array cache
    (:func:`datasets.default.array_cache_dir`), names become tuples.

    Parameters
    ----------
    options : mapping
        Field names (and ``all``) to values; ``data`` already resolved to a
        dataset root. Keys that are not fields (``all``, ``config_file``) are
        read or ignored.

    Returns
    -------
    RunConfig
    """
    from datasets.default import array_cache_dir

    names = {f.name for f in fields(RunConfig)}
    values = {k: v for k, v in options.items() if k in names}
    if options.get("all"):
        values["decoders"] = None
    for name in ("decoders", "subjects"):
        if values.get(name) is not None:
            values[name] = tuple(values[name]) or None
    if values.get("moabb_pipelines") is not None:
        values["moabb_pipelines"] = tuple(Path(p) for p in values["moabb_pipelines"]) or None
    if values.get("data_cache") is True:
        values["data_cache"] = array_cache_dir()
    elif not values.get("data_cache"):
        values["data_cache"] = None
    if "out" in values:
        values["out"] = Path(values["out"])
    if values.get("fit_cache") is not None:
        values["fit_cache"] = Path(values["fit_cache"])
    return RunConfig(**values)
