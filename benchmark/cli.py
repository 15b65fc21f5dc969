"""Command line: ``python -m benchmark {run,list,simulate,sweep,robustness,report,submit,compare,profile}``.

``download`` fetches the real data (:mod:`benchmark.download`).

Exit codes: see :data:`EXIT_CODES` (also printed by ``--help``).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.config import DEFAULT_LOCALIZER_FOLDS
from benchmark.errors import BenchmarkError

logger = logging.getLogger("benchmark")

#: What each exit code of ``python -m benchmark`` means (shown by --help).
EXIT_CODES = """exit codes:
  0    success: every task ok
  1    some task failed (error, timeout, oom, invalid), or under `run --all` a decoder
       file could not be imported; each has its row, with the message, in the reports
  2    bad input or usage: unknown decoder or subject, unreadable dataset, bad flag,
       --out not a folder or used by another run
  3    environment failure: disk full, read-only or unwritable folder, the harness
       itself out of memory, a failed download; the message names the path
  130  interrupted (Ctrl-C); finished tasks are kept and a rerun resumes"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Show each option's default (unless its help says it or there is none); keep the epilog's layout."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default is None
            or action.default is False  # a flag; 0 is a default worth showing
            or action.default == argparse.SUPPRESS
            or isinstance(action, argparse._CountAction | argparse._VersionAction | argparse._HelpAction)
        ):
            return text
        return super()._get_help_string(action)


def _program_name() -> str:
    """``imagine-bench`` when started by the console script, else ``python -m benchmark``."""
    return "imagine-bench" if Path(sys.argv[0]).stem == "imagine-bench" else "python -m benchmark"


def _build_parser(defaults: bool = True) -> argparse.ArgumentParser:
    """Build the argument parser.

    Parameters
    ----------
    defaults : bool
        False gives every ``run`` option the default ``SUPPRESS``, so that
        parsing tells which options the command line set (they override
        ``run --config``).
    """
    from benchmark import __version__

    common = argparse.ArgumentParser(add_help=False)  # global options, also accepted after the subcommand
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output (-vv: debug)"
    )
    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Compare MEG decoders on the IMAGINE challenge (localizer -> imagery transfer).",
        epilog=EXIT_CODES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_parser(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], formatter_class=_HelpFormatter, **kwargs)

    def d(value):  # a run option's default, or SUPPRESS when only explicit options are wanted
        return value if defaults else argparse.SUPPRESS

    run = add_parser("run", help="run decoders and write the reports", epilog=EXIT_CODES)
    which = run.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", default=d(False), help="every registered decoder")
    which.add_argument("--decoder", nargs="+", metavar="NAME", default=d(None), help="decoder name(s)")
    run.add_argument(
        "--config", type=Path, metavar="FILE", default=d(None),
        help="read the options from a TOML, YAML or JSON file (a finished run's run.json repeats that "
        "run); options given on the command line override it",
    )  # fmt: skip
    run.add_argument(
        "--data", type=Path, default=d(None), help="dataset root (default: the simulated default)"
    )
    run.add_argument(
        "--subjects", nargs="+", metavar="SUB", default=d(None), help="subject names, e.g. sub-02"
    )
    run.add_argument("--n-jobs", type=int, default=d(-1), help="parallel tasks (-1: one per core)")
    run.add_argument("--out", type=Path, default=d(Path("reports")), help="report folder")
    run.add_argument("--seed", type=int, default=d(0), help="random_state of decoders and folds")
    run.add_argument(
        "--localizer-folds",
        type=int,
        default=d(DEFAULT_LOCALIZER_FOLDS),
        help="localizer CV folds, ranked decoders (0 skips)",
    )
    run.add_argument("--no-progress", action="store_true", default=d(False), help="no progress bar")
    run.add_argument("--timeout", type=float, default=d(1800.0), help="seconds per task before it is killed")
    run.add_argument(
        "--max-memory", type=float, metavar="MB", default=d(None), help="memory cap per task in MB"
    )
    run.add_argument(
        "--force", action="store_true", default=d(False), help="recompute tasks whose results are stored"
    )
    run.add_argument(
        "--no-data-cache", action="store_true", default=d(False),
        help="read the FIF files every time (no array cache)",
    )  # fmt: skip
    run.add_argument(
        "--backend", choices=("local", "dask"), default=d("local"),
        help="local: one forked process per task; dask: a dask.distributed cluster",
    )  # fmt: skip
    run.add_argument(
        "--scheduler", metavar="ADDRESS", default=d(None),
        help="dask scheduler, e.g. tcp://host:8786 (default: a local cluster of --n-jobs workers)",
    )  # fmt: skip

    lst = add_parser("list", help="list the registered decoders")
    lst.add_argument("--markdown", action="store_true", help="the README's decoder table (Markdown)")
    for p in (run, lst):
        p.add_argument(
            "--moabb-pipelines", nargs="+", type=Path, default=d([]) if p is run else [], metavar="PATH",
            help="MOABB pipeline YAML files, or folders of them, to run as decoders too",
        )  # fmt: skip

    sim = add_parser("simulate", help="write a simulated dataset in the official layout")
    sim.add_argument("out", type=Path, help="dataset root to create (must not exist or be empty)")
    sim.add_argument("--full", action="store_true", help="the real study's size: 15 train + 14 test")
    sim.add_argument("--n-train", type=int, help="number of train subjects")
    sim.add_argument("--n-test", type=int, help="number of test subjects")
    sim.add_argument("--alpha", type=float, help="imagery transfer weight in [0, 1]")
    sim.add_argument("--snr", type=float, help="signal-to-noise scale")
    sim.add_argument("--seed", type=int, help="simulation seed")
    sim.add_argument("--truth", type=Path, help="ground-truth folder (default: OUT-truth)")

    swp = add_parser("sweep", help="run decoders on simulated data across transfer strengths alpha")
    swp.add_argument("--alpha", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0], help="alphas")
    swp.add_argument("--decoder", nargs="+", metavar="NAME", help="decoder name(s) (default: all)")
    swp.add_argument("--n-train", type=int, default=4, help="simulated train subjects per alpha")
    swp.add_argument("--snr", type=float, help="signal-to-noise scale of the simulation")
    swp.add_argument("--seed", type=int, default=0, help="simulation and decoder seed")
    swp.add_argument("--n-jobs", type=int, default=-1, help="parallel tasks (default: one per core)")
    swp.add_argument("--localizer-folds", type=int, default=0, help="localizer CV folds (0 skips)")
    swp.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")

    rob = add_parser(
        "robustness", help="run decoders on every simulation regime x alpha, against the transfer ceiling"
    )
    rob.add_argument(
        "--regime", nargs="+", metavar="NAME", help="regimes (default: all of datasets/regimes.py)"
    )
    rob.add_argument("--alpha", type=float, nargs="+", help="alphas (default 0 0.5 1; --quick: 0 1)")
    rob.add_argument("--decoder", nargs="+", metavar="NAME", help="decoder name(s) (default: all)")
    rob.add_argument("--n-train", type=int, default=4, help="simulated train subjects per cell (default 4)")
    rob.add_argument("--seed", type=int, default=0, help="simulation and decoder seed")
    rob.add_argument("--n-jobs", type=int, default=-1, help="parallel tasks (default: one per core)")
    rob.add_argument("--localizer-folds", type=int, default=0, help="localizer CV folds (default 0: skip)")
    rob.add_argument(
        "--quick", action="store_true",
        help="small subset: 2 regimes, alphas 0 and 1, 3 decoders, 2 subjects with fewer trials",
    )  # fmt: skip
    rob.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")

    rep = add_parser("report", help="rebuild every report file of a stored run (tasks.jsonl + run.json)")
    rep.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="folder written by `run`")
    rep.add_argument("--out", type=Path, help="write the reports there (default: RESULTS_DIR)")
    rep.add_argument(
        "--append-history", action="store_true",
        help="append this run's leaderboard to OUT/history.csv (once per run; the nightly job does)",
    )  # fmt: skip

    subm = add_parser("submit", help="write and validate a Kaggle submission for the test subjects")
    subm.add_argument("--decoder", required=True, metavar="NAME", help="decoder name")
    subm.add_argument(
        "--data", type=Path, help="dataset root (default: --from-run's dataset, else the simulated default)"
    )
    subm.add_argument("--out", type=Path, help="submission CSV (default: submission-NAME.csv)")
    subm.add_argument(
        "--from-run", type=Path, metavar="DIR", help="validate DIR/submissions/NAME.csv instead of running"
    )
    subm.add_argument("--seed", type=int, default=0, help="random_state of the decoder")
    subm.add_argument("--n-jobs", type=int, default=1, help="parallel tasks")
    subm.add_argument(
        "--force-unranked", action="store_true",
        help="allow a decoder that is not ranked (the oracle reads the simulation's ground truth)",
    )  # fmt: skip

    dl = add_parser(
        "download", help="download the challenge's real data from Zenodo, verify and unpack it",
        description="Download every file of the challenge's Zenodo record (checksums from the record,\n"
        "retries, resume of a broken transfer), unpack the archives and print the dataset root\n"
        "that `run --data` takes. See docs/reports.md.",
    )  # fmt: skip
    dl.add_argument(
        "dest", type=Path, nargs="?", metavar="DIR",
        help="download folder (default: $IMAGINE_BENCH_HOME/zenodo-<record>)",
    )  # fmt: skip
    dl.add_argument("--doi", default=None, help="Zenodo DOI of the record (default: the challenge's)")
    dl.add_argument("--api", default=None, help="records API base URL (default: Zenodo's; for a mirror)")
    dl.add_argument("--retries", type=int, default=3, help="attempts after the first for each file")
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    dl.add_argument(
        "--remove-archives", action="store_true",
        help="delete each archive once unpacked (half the disk space; a rerun cannot verify it again)",
    )  # fmt: skip

    cmp_ = add_parser("compare", help="compare two report folders (fails on unexplained score changes)")
    cmp_.add_argument("old", type=Path, metavar="OLD_DIR")
    cmp_.add_argument("new", type=Path, metavar="NEW_DIR")
    cmp_.add_argument(
        "--runtime-tolerance", type=float, default=0.25, help="relative runtime change reported"
    )
    cmp_.add_argument(
        "--changes-json", type=Path, metavar="FILE",
        help="also write the changes as JSON, with commit=true when a score, status or decoder changed",
    )  # fmt: skip

    prof = add_parser(
        "profile",
        help="time the fast paths next to the slow ones against the project's performance targets; "
        "exit 1 on a miss",
    )
    prof.add_argument("--quick", action="store_true", help="small arrays (smoke test); speed not enforced")
    prof.add_argument(
        "--targets", nargs="*", choices=("1", "2", "4"), default=["1", "2", "4"],
        help="1 time-resolved decoding, 2 loading and memory, 4 --n-jobs 2 vs 1 (default: all three)",
    )  # fmt: skip
    prof.add_argument("--data", type=Path, help="dataset of targets 1, 2, 4 (default: simulated, 2+1)")
    prof.add_argument("--decoder", nargs="+", metavar="NAME", help="decoders of target 4 (default all)")
    prof.add_argument("--subjects", nargs="+", metavar="SUB", help="subjects of target 4 (default all)")
    prof.add_argument("--official-times", type=int, default=6, help="time points timed for the official one")
    prof.add_argument(
        "--full-run", nargs="?", const="default", metavar="DATA",
        help="also time `run --all` (target 3) on DATA: a dataset root, 'default' (the simulated "
        "default, 18 subjects; the default) or 'full' (the simulated full-size set, 29 subjects)",
    )  # fmt: skip
    prof.add_argument(
        "--n-jobs", type=int, default=-1,
        help="--n-jobs of --full-run and of the --scaling subject curve (default -1 as in run)",
    )  # fmt: skip
    prof.add_argument(
        "--repeat", type=int, default=2, metavar="N",
        help="ratio targets 1a/1b and 4: both sides in turn (A B A B ...), best of N (2a: at least 5)",
    )  # fmt: skip
    prof.add_argument(
        "--scaling", action="store_true",
        help="also measure the cost curve: reports/scaling.md and scaling.png (see --scaling-*)",
    )  # fmt: skip
    prof.add_argument(
        "--scaling-subjects", type=int, nargs="+", metavar="N", default=[5, 10, 15, 29],
        help="subject counts of the whole-run curve (default 5 10 15 29; at most 29)",
    )  # fmt: skip
    prof.add_argument(
        "--scaling-trials", type=int, nargs="*", metavar="N", default=[12, 24, 48],
        help="localizer epochs per class of the per-decoder trial curve, on 2 subjects (default 12 24 48; "
        "none: skip it)",
    )  # fmt: skip
    prof.add_argument(
        "--scaling-decoders", nargs="+", metavar="NAME", help="decoders of the --scaling runs (default all)"
    )
    prof.add_argument(
        "--scaling-no-backends", action="store_true",
        help="skip the dask LocalCluster (1 and 2 workers) vs local backend comparison",
    )  # fmt: skip
    prof.add_argument(
        "--scaling-out", type=Path, default=Path("reports"), metavar="DIR",
        help="folder of scaling.md, scaling.png, scaling.json (default reports)",
    )  # fmt: skip
    prof.add_argument(
        "--scaling-render", type=Path, metavar="JSON",
        help="only render scaling.md and scaling.png again from a scaling.json into --scaling-out",
    )  # fmt: skip
    prof.add_argument(
        "--run-limit", type=float,
        help="target 3 in seconds (default 600; 720 with --full-run full)",
    )  # fmt: skip
    prof.add_argument("--timeout", type=float, default=1800.0, help="--timeout of the profiled runs' tasks")
    prof.add_argument("--save", type=Path, metavar="FILE", help="also write the printed report to FILE")
    prof.add_argument("--keep", type=Path, metavar="DIR", help="keep the profiled runs' reports in DIR")
    prof.add_argument(
        "--render", type=Path, metavar="JSON",
        help="only render pytest-benchmark JSON (tox -e bench: reports/runtime.json) to Markdown",
    )  # fmt: skip
    prof.add_argument(
        "--render-out", type=Path, default=Path("reports/runtime.md"),
        help="Markdown file whose 'bench' section --render rewrites (default reports/runtime.md)",
    )  # fmt: skip
    return parser


#: The harness's own loggers: -vv shows their DEBUG lines, never a third-party library's.
HARNESS_LOGGERS = ("benchmark", "datasets", "decoders", "tools")
#: Third-party loggers that set their own level (or that of their handlers) when imported:
#: held at WARNING explicitly, whatever was imported before.
QUIET_LOGGERS = ("matplotlib", "PIL", "distributed", "urllib3", "numba", "fsspec", "asyncio", "tornado")


def _configure_logging(verbosity: int) -> None:
    """Quiet by default (warnings only), ``-v`` INFO, ``-vv`` the harness's DEBUG.

    Third-party libraries stay at WARNING whatever the verbosity (matplotlib's
    font manager, numba, distributed, urllib3 log DEBUG lines by the hundred),
    except pooch's download messages, which ``-v`` shows. Handlers are set here
    only, in the command line; library code only logs.
    """
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in HARNESS_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("pooch").setLevel(logging.INFO if verbosity > 0 else logging.WARNING)


def _cmd_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from benchmark.registry import discover, markdown_table

    registry = discover(strict=False, pipelines=args.moabb_pipelines)
    if args.markdown:
        print(markdown_table(registry), end="")
        return 1 if registry.broken else 0
    rows = [(s.name, s.family, "yes" if s.ranked else "no", s.description) for s in registry.specs.values()]
    print(tabulate(rows, headers=["name", "family", "ranked", "description"], tablefmt="github"))
    for origin, message in registry.broken.items():
        print(f"BROKEN {origin}: {message}", file=sys.stderr)
    return 1 if registry.broken else 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from datasets.simulate import SimulationConfig, simulate_dataset

    overrides = {
        key: value
        for key, value in (
            ("n_train", args.n_train),
            ("n_test", args.n_test),
            ("alpha", args.alpha),
            ("snr", args.snr),
            ("seed", args.seed),
        )
        if value is not None
    }
    config = SimulationConfig.full(**overrides) if args.full else SimulationConfig(**overrides)
    truth = simulate_dataset(args.out, config, truth_dir=args.truth)
    print(f"dataset written to {args.out}; ground truth (not for decoders) in {truth}")
    return 0


def _did_you_mean(name: str, valid: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_decoders(names: Sequence[str] | None, pipelines: Sequence[Path] = ()) -> None:
    """Raise UnknownDecoderError with a suggestion for the first unknown decoder name."""
    if not names:
        return
    from benchmark.errors import UnknownDecoderError
    from benchmark.registry import discover

    valid = discover(strict=False, pipelines=pipelines).names
    for name in names:
        if name not in valid:
            raise UnknownDecoderError(
                f"Unknown decoder {name!r}.{_did_you_mean(name, valid)} Valid names: {', '.join(valid)}."
            )


def _check_subjects(names: Sequence[str] | None, data: Path) -> None:
    """Raise DatasetError with a suggestion for the first subject not in the dataset at ``data``."""
    if not names:
        return
    from benchmark.errors import DatasetError
    from datasets.adapter import ChallengeDataset

    valid = ChallengeDataset(data).subjects
    for name in names:
        if name not in valid:
            raise DatasetError(
                f"Unknown subject {name!r} in {data}.{_did_you_mean(name, valid)} "
                f"Available: {', '.join(valid)}."
            )


#: ``run``'s parser destinations that RunConfig names otherwise.
_RENAMES = {"decoder": "decoders", "max_memory": "max_memory_mb"}


def _run_fields(parsed: dict) -> dict:
    """Options of ``run`` as the parser stores them -> RunConfig field names and values."""
    options = {}
    for key, value in parsed.items():
        if key in ("command", "verbose", "config"):
            continue
        if key == "no_progress":
            options["progress"] = not value
        elif key == "no_data_cache":
            options["data_cache"] = None if value else True
        else:
            options[_RENAMES.get(key, key)] = value
    return options


def run_defaults() -> dict:
    """Every option of ``run`` at its default, in RunConfig field names: the parser's own defaults."""
    return _run_fields(vars(_build_parser().parse_args(["run"])))


def _run_options(args: argparse.Namespace, argv: Sequence[str] | None) -> dict:
    """Merge the parser's defaults, ``--config FILE`` and the options given on the command line."""
    from benchmark.config import read_config_file

    explicit = vars(_build_parser(defaults=False).parse_args(argv))
    options = run_defaults()
    config_file = explicit.get("config")
    if config_file is not None:
        options.update(read_config_file(config_file))
        options["config_file"] = config_file
    options.update(_run_fields(explicit))
    if explicit.get("all"):
        options["decoders"] = None
    elif explicit.get("decoder"):
        options["all"] = False
    if not options["all"] and not options["decoders"]:
        raise BenchmarkError("run: give --all, --decoder NAME ... or --config FILE naming the decoders.")
    return options


def _cmd_run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    from benchmark.config import RunConfig
    from datasets.default import array_cache_dir

    options = _run_options(args, argv)
    data = options["data"]
    if data is None or (options.get("config_file") and not Path(data).exists() and _is_cached_default(data)):
        from datasets.default import default_dataset

        if data is not None:
            logger.warning("%s (from %s) is not on this machine: using the simulated default dataset",
                           data, options["config_file"])  # fmt: skip
        else:
            logger.info("no --data given: using the simulated default dataset")
        data = default_dataset()
    decoders = None if options["all"] else tuple(options["decoders"])
    _check_decoders(decoders, options["moabb_pipelines"])
    subjects = tuple(options["subjects"]) if options["subjects"] else None
    _check_subjects(subjects, data)
    data_cache = options["data_cache"]
    config = RunConfig(
        data=data,
        out=Path(options["out"]),
        decoders=decoders,
        subjects=subjects,
        n_jobs=options["n_jobs"],
        seed=options["seed"],
        localizer_folds=options["localizer_folds"],
        progress=options["progress"] and sys.stderr.isatty(),  # never redraws in a redirected stderr
        timeout=options["timeout"],
        max_memory_mb=options["max_memory_mb"],
        force=options["force"],
        data_cache=array_cache_dir() if data_cache is True else data_cache or None,
        backend=options["backend"],
        scheduler=options["scheduler"],
    )
    if config.backend == "dask":  # distributed logs every worker's start and stop, and sets its own level
        import dask.config

        dask.config.set({"distributed.logging.distributed": "warning"})
    from benchmark.experiment import run_benchmark

    summary = run_benchmark(config, pipelines=options["moabb_pipelines"])
    print((config.out / "leaderboard.md").read_text())
    config_file = options.get("config_file")
    if config_file is not None and Path(config_file).suffix == ".json":
        _warn_if_other_dataset(Path(config_file), config.out / "run.json")
    if summary.failures:
        print(f"{len(summary.failures)} task(s) failed:", file=sys.stderr)
        for row in summary.failures:
            print(f"  {row['pipeline']} on {row['subject']}: {row['error']}", file=sys.stderr)
        for origin, message in summary.broken.items():
            print(f"  broken decoder file {origin}: {message}", file=sys.stderr)
        return 1
    return 0


def _is_cached_default(data: Path) -> bool:
    """Whether ``data`` looks like a simulated default dataset's root (``.../simulated-<hash>/data``).

    A replayed ``run.json`` from another machine names that machine's cache
    folder; the default dataset is then generated here instead.
    """
    path = Path(data)
    return path.name == "data" and path.parent.name.startswith("simulated-")


def _warn_if_other_dataset(recorded: Path, written: Path) -> None:
    """Warn when a replayed run.json's dataset fingerprint differs from the new run's.

    The fingerprint reads file sizes, mtimes and blocks, so the same default
    simulation regenerated on another machine gets a new one. When both runs
    used the default simulated dataset of the same simulation key (the
    ``simulated-<key>`` folder: simulator version and every parameter), the
    data are the same by construction and only a note is printed.
    """
    import json

    try:
        old_info = json.loads(recorded.read_text())
        new_info = json.loads(written.read_text())
    except (OSError, ValueError):
        return
    old, new = old_info.get("fingerprint"), new_info.get("fingerprint")
    if not (old and new and old != new):
        return
    old_key, new_key = (simulation_key(info.get("dataset_root")) for info in (old_info, new_info))
    if old_key and old_key == new_key:
        print(
            f"note: the default simulated dataset {old_key} was regenerated here (fingerprint {new}, "
            f"recorded {old}): same simulator version and parameters, so the same data.",
            file=sys.stderr,
        )
        return
    print(
        f"warning: dataset fingerprint {new} differs from {old} recorded in {recorded}: either other "
        "data, or the same files rewritten (the fingerprint reads sizes, modification times and "
        "blocks); compare the scores with the recorded run's.",
        file=sys.stderr,
    )


def simulation_key(dataset_root: str | None) -> str | None:
    """Return the ``simulated-<key>`` folder name of a default simulated dataset's root, else None."""
    if not dataset_root:
        return None
    path = Path(str(dataset_root))
    return path.parent.name if _is_cached_default(path) else None


def _cmd_sweep(args: argparse.Namespace) -> int:
    from benchmark.sweep import run_sweep, simulation_overrides

    results = run_sweep(
        args.alpha,
        args.out,
        decoders=args.decoder,
        simulation=simulation_overrides(n_train=args.n_train, snr=args.snr, seed=args.seed),
        run={"n_jobs": args.n_jobs, "seed": args.seed, "localizer_folds": args.localizer_folds},
    )
    print((args.out / "simulation.md").read_text())
    failed = results[results["status"] != "ok"]
    return 1 if len(failed) else 0


def _cmd_robustness(args: argparse.Namespace) -> int:
    from benchmark.sweep import QUICK, ROBUSTNESS_ALPHAS, run_robustness

    simulation: dict = {"n_train": args.n_train, "seed": args.seed}
    regimes, alphas, decoders = args.regime, args.alpha or ROBUSTNESS_ALPHAS, args.decoder
    if args.quick:
        simulation = {**simulation, **QUICK["simulation"]}
        regimes = regimes or QUICK["regimes"]
        alphas = args.alpha or QUICK["alphas"]
        decoders = decoders or QUICK["decoders"]
    results = run_robustness(
        args.out,
        regimes=regimes,
        alphas=alphas,
        decoders=decoders,
        simulation=simulation,
        run={"n_jobs": args.n_jobs, "seed": args.seed, "localizer_folds": args.localizer_folds},
    )
    print((args.out / "robustness.md").read_text())
    failed = results[results["status"] != "ok"]
    return 1 if len(failed) else 0


def _reads_files(*where: str):
    """Turn any error a malformed stored file causes in a command into exit 2 naming the input.

    The commands that read stored files (report, compare, submit) check what
    they read and raise errors naming the file; this is the net under those
    checks: a KeyError or TypeError from an unforeseen malformation is
    reported as bad input, never as a traceback (which would exit 1, the code
    for failed tasks).
    """

    def wrap(command):
        @functools.wraps(command)
        def checked(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except BenchmarkError:  # already names the file or the name (UnknownDecoderError is a KeyError)
                raise
            except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
                logger.debug("traceback of the error below", exc_info=True)
                names = " or ".join(str(getattr(args, w)) for w in where if getattr(args, w, None))
                print(
                    f"error: malformed input in {names or 'the input files'}: {type(exc).__name__}: {exc}. "
                    "Were the files written by `python -m benchmark run`? (-vv shows the traceback)",
                    file=sys.stderr,
                )
                return 2

        return checked

    return wrap


@_reads_files("results_dir")
def _cmd_report(args: argparse.Namespace) -> int:
    import shutil

    from benchmark.outdir import OutputLock, load_for_report, publish_reports
    from benchmark.runner import TASKS_FILE

    rows, run_info = load_for_report(args.results_dir)
    out = args.out or args.results_dir
    if args.append_history and out.resolve() != args.results_dir.resolve():
        history = args.results_dir / "history.csv"
        if history.is_file() and not (out / "history.csv").exists():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(history, out / "history.csv")
    with OutputLock(out):
        publish_reports(rows, out, run_info, record_history=args.append_history, n_jobs=-1)
    if out.resolve() != args.results_dir.resolve():
        shutil.copyfile(args.results_dir / TASKS_FILE, out / TASKS_FILE)
    print((out / "leaderboard.md").read_text())
    return 0


@_reads_files("from_run", "data")
def _cmd_submit(args: argparse.Namespace) -> int:
    import tempfile

    import pandas as pd

    from benchmark.config import expand_path
    from benchmark.errors import DatasetError
    from benchmark.registry import discover
    from benchmark.report import (
        expected_submission_ids,
        read_json_object,
        submission_frame,
        validate_submission,
    )
    from datasets.adapter import ChallengeDataset

    registry = discover(strict=False)
    stored = args.from_run / "submissions" / f"{args.decoder}.csv" if args.from_run is not None else None
    if stored is None or not stored.is_file():  # a stored file of a since-removed decoder stays usable
        _check_decoders([args.decoder])
    spec = registry.specs.get(args.decoder)
    if spec is not None and not spec.ranked:
        if not args.force_unranked:
            print(
                f"error: {args.decoder} is not ranked ({spec.description.rstrip('.')}); its predictions "
                "may use information a real submission cannot have (the oracle reads the simulation's "
                "ground truth). Pass --force-unranked to write it anyway.",
                file=sys.stderr,
            )
            return 2
        logger.warning("%s is not ranked: writing its submission because of --force-unranked", args.decoder)
    data = args.data
    if data is None and args.from_run is not None:
        info_file = args.from_run / "run.json"
        if info_file.is_file():
            recorded = read_json_object(info_file).get("dataset_root")
            data = expand_path(recorded) if recorded else None
            if data is not None and not data.is_dir():
                raise DatasetError(
                    f"the dataset root {recorded} recorded in {info_file} does not exist on this machine; "
                    "pass --data PATH to validate against your copy of the dataset."
                )
    dataset = ChallengeDataset(data)
    test_subjects = dataset.subjects_in("test")
    if not test_subjects:
        print(f"error: {dataset.root} has no test subjects to submit for", file=sys.stderr)
        return 2
    if args.from_run is not None:
        source = args.from_run / "submissions" / f"{args.decoder}.csv"
        if not source.is_file():
            print(
                f"error: {source} not found; run `python -m benchmark run` first or drop --from-run",
                file=sys.stderr,
            )
            return 2
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            print(f"error: {source} is not a readable CSV file ({exc}).", file=sys.stderr)
            return 2
    else:
        from benchmark.config import RunConfig
        from benchmark.experiment import run_benchmark

        with tempfile.TemporaryDirectory(prefix="imagine-submit-") as tmp:
            config = RunConfig(
                data=data, out=Path(tmp), decoders=(args.decoder,), subjects=tuple(test_subjects),
                n_jobs=args.n_jobs, seed=args.seed, localizer_folds=0, progress=False,
            )  # fmt: skip
            summary = run_benchmark(config)
        if summary.failures:
            for row in summary.failures:
                print(f"error: {row['pipeline']} on {row['subject']}: {row['error']}", file=sys.stderr)
            return 1
        frame = submission_frame(summary.rows, args.decoder)
    validate_submission(frame, expected_submission_ids(dataset))
    out = args.out or Path(f"submission-{args.decoder}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    from datasets.truth import find_truth_dir

    if find_truth_dir(dataset.root) is not None:
        print(
            f"SIMULATED DATA: {out} holds predictions for the simulated test subjects of {dataset.root}; "
            "Kaggle rejects it (it only shows the format). `python -m benchmark download` fetches the "
            "real data."
        )
    print(
        f"{out}: {len(frame)} rows for {len(test_subjects)} test subject(s), "
        f"validated against {dataset.root}. The public leaderboard scores all test rows: "
        "choose decoders on the train subjects, not by submitting."
    )
    return 0


@_reads_files("old", "new")
def _cmd_compare(args: argparse.Namespace) -> int:
    from benchmark.compare import compare_runs

    result = compare_runs(args.old, args.new, runtime_tolerance=args.runtime_tolerance)
    print(result.to_markdown())
    if args.changes_json is not None:
        import json

        args.changes_json.parent.mkdir(parents=True, exist_ok=True)
        args.changes_json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return 1 if result.failed else 0


def _cmd_download(args: argparse.Namespace) -> int:
    import shlex

    from benchmark.download import ZENODO_API, ZENODO_DOI, fetch_record, record_id
    from datasets.default import cache_home

    doi = args.doi or ZENODO_DOI
    dest = args.dest or cache_home() / f"zenodo-{record_id(doi)}"
    root = fetch_record(
        dest, doi, args.api or ZENODO_API, retries=args.retries,
        progressbar=not args.no_progress and sys.stderr.isatty(), keep_archives=not args.remove_archives,
    )  # fmt: skip
    print(f"doi:{doi} downloaded, verified and unpacked into {dest}.\nRun on it with:")
    print(f"  {_program_name()} run --all --data {shlex.quote(str(root))}")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    # the acceptance checks live outside the harness package, in the repository's tools/
    try:
        import tools.profile  # noqa: F401
    except ImportError:
        raise BenchmarkError(
            "`profile` runs tools/profile.py of a source checkout: run it from the repository root."
        ) from None
    from tools.checks import exit_code
    from tools.profile import FULL_SET_RUN_LIMIT_S, RUN_LIMIT_S, ProfileOptions, run_profile
    from tools.runtime_bench import write_runtime_bench

    if args.render is not None:
        out = write_runtime_bench(args.render, args.render_out)
        print(f"{out} written from {args.render}")
        return 0
    full_run, run_limit = None, args.run_limit
    if args.full_run is not None:
        from datasets.default import default_dataset
        from datasets.simulate import SimulationConfig

        if args.full_run in ("default", "full"):
            full = args.full_run == "full"
            full_run = default_dataset(SimulationConfig.full() if full else None)
            run_limit = run_limit or (FULL_SET_RUN_LIMIT_S if full else None)
        else:
            full_run = Path(args.full_run)
    if args.scaling_render is not None:
        from tools.scaling import rerender

        written = rerender(args.scaling_render, args.scaling_out)
        print(", ".join(str(p) for p in written) + f" written from {args.scaling_render}")
        return 0
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {args.repeat}.")
    scaling = None
    if args.scaling:
        from tools.scaling import ScalingOptions

        scaling = ScalingOptions(
            subjects=tuple(args.scaling_subjects),
            trials_per_class=tuple(args.scaling_trials),
            decoders=tuple(args.scaling_decoders) if args.scaling_decoders else None,
            n_jobs=args.n_jobs,
            backends=not args.scaling_no_backends,
            out=args.scaling_out,
        )
    options = ProfileOptions(
        quick=args.quick,
        targets=tuple(args.targets),
        data=args.data,
        decoders=tuple(args.decoder) if args.decoder else None,
        subjects=tuple(args.subjects) if args.subjects else None,
        n_official_times=args.official_times,
        full_run=full_run,
        full_run_n_jobs=args.n_jobs,
        run_limit=run_limit or RUN_LIMIT_S,
        timeout=args.timeout,
        keep=args.keep,
        repeat=args.repeat,
        scaling=scaling,
    )
    checks, text = run_profile(options)
    print(text, end="")
    if args.save is not None:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(text)
    return exit_code(checks)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "simulate":
            return _cmd_simulate(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "robustness":
            return _cmd_robustness(args)
        if args.command == "report":
            return _cmd_report(args)
        if args.command == "submit":
            return _cmd_submit(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "download":
            return _cmd_download(args)
        if args.command == "profile":
            return _cmd_profile(args)
        return _cmd_run(args, argv)
    except KeyboardInterrupt:
        kept = "finished tasks are kept in --out's cache/; rerun the same command to resume"
        print(f"interrupted: {kept}" if args.command == "run" else "interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        logger.debug("traceback of the error below", exc_info=True)
        print(
            "error: the harness itself ran out of memory; free memory or run fewer --n-jobs", file=sys.stderr
        )
        return 3
    except (BenchmarkError, ValueError, OSError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 3 if _is_environment_failure(exc) else 2


def _is_environment_failure(exc: BaseException) -> bool:
    """Return True for a failure of the machine (full disk, read-only folder), not of the input."""
    from benchmark.errors import EnvironmentFailure
    from benchmark.outdir import ENVIRONMENT_ERRNOS

    return isinstance(exc, EnvironmentFailure) or (
        isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS
    )
