"""The parser of ``python -m benchmark``, and the options of ``run`` it yields."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.config import BACKENDS, command_line_default, run_fields
from benchmark.errors import BenchmarkError

#: What each exit code of ``python -m benchmark`` means (shown by --help).
EXIT_CODES = """exit codes:
  0    success: every task ok
  1    some task failed (error, timeout, oom, invalid), or under `run --all` a decoder
       file could not be imported; each has its row, with the message, in the reports
  2    bad input or usage: unknown decoder or subject, unreadable dataset, bad flag,
       --out not a folder or used by another run
  3    environment failure: disk full, read-only or unwritable folder, the harness
       itself out of memory, a failed download; the message names the path
  130  interrupted (Ctrl-C); finished tasks are kept and a rerun resumes
  143  terminated (SIGTERM), as for Ctrl-C"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
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


def program_name() -> str:
    """``imagine-bench`` when started by the console script, else ``python -m benchmark``."""
    return "imagine-bench" if Path(sys.argv[0]).stem == "imagine-bench" else "python -m benchmark"


def build_parser(defaults: bool = True) -> argparse.ArgumentParser:
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
        prog=program_name(),
        description="Compare MEG decoders on the IMAGINE challenge (localizer -> imagery transfer).",
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_parser(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], formatter_class=HelpFormatter, **kwargs)

    def d(value):  # a run option's default, or SUPPRESS when only explicit options are wanted
        return value if defaults else argparse.SUPPRESS

    def field(name: str):  # the default of the RunConfig field an option sets (benchmark.config)
        return d(command_line_default(name))

    run = add_parser("run", help="run decoders and write the reports", epilog=EXIT_CODES)
    which = run.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", default=d(False), help="every registered decoder")
    which.add_argument(
        "--decoder", nargs="+", metavar="NAME", default=field("decoders"), help="decoder name(s)"
    )
    run.add_argument(
        "--config", type=Path, metavar="FILE", default=d(None),
        help="read the options from a TOML, YAML or JSON file (a finished run's run.json repeats that "
        "run); options given on the command line override it",
    )  # fmt: skip
    run.add_argument(
        "--data", type=Path, default=field("data"), help="dataset root (default: the simulated default)"
    )
    run.add_argument(
        "--subjects", nargs="+", metavar="SUB", default=field("subjects"), help="subject names, e.g. sub-02"
    )
    run.add_argument("--n-jobs", type=int, default=field("n_jobs"), help="parallel tasks (-1: one per core)")
    run.add_argument("--out", type=Path, default=field("out"), help="report folder")
    run.add_argument("--seed", type=int, default=field("seed"), help="random_state of decoders and folds")
    run.add_argument(
        "--localizer-folds",
        type=int,
        default=field("localizer_folds"),
        help="localizer CV folds, ranked decoders (0 skips)",
    )
    # the flags --all, --no-progress and --no-data-cache default to False (not given)
    run.add_argument("--no-progress", action="store_true", default=d(False), help="no progress bar")
    run.add_argument(
        "--timeout", type=float, default=field("timeout"), help="seconds per task before it is killed"
    )
    run.add_argument(
        "--max-memory",
        type=float,
        metavar="MB",
        default=field("max_memory_mb"),
        help="memory cap per task in MB",
    )
    run.add_argument(
        "--force",
        action="store_true",
        default=field("force"),
        help="recompute tasks whose results are stored",
    )
    run.add_argument(
        "--no-data-cache", action="store_true", default=d(False),
        help="read the FIF files every time (no array cache)",
    )  # fmt: skip
    run.add_argument(
        "--fit-cache", type=Path, metavar="DIR", default=field("fit_cache"),
        help="store fits on the localizers here and reuse them when a later run's are identical",
    )  # fmt: skip
    run.add_argument(
        "--backend", choices=BACKENDS, default=field("backend"),
        help="local: one forked process per task; dask: a dask.distributed cluster",
    )  # fmt: skip
    run.add_argument(
        "--scheduler", metavar="ADDRESS", default=field("scheduler"),
        help="dask scheduler, e.g. tcp://host:8786 (default: a local cluster of --n-jobs workers)",
    )  # fmt: skip

    lst = add_parser("list", help="list the registered decoders")
    lst.add_argument("--markdown", action="store_true", help="the README's decoder table (Markdown)")
    for p in (run, lst):
        p.add_argument(
            "--moabb-pipelines", nargs="+", type=Path, metavar="PATH",
            default=field("moabb_pipelines") if p is run else [],
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

    return parser


def run_defaults() -> dict:
    """Every option of ``run`` at its default, in RunConfig field names: the parser's own defaults."""
    return run_fields(vars(build_parser().parse_args(["run"])), "the command line's defaults")


def run_options(args: argparse.Namespace, argv: Sequence[str] | None) -> dict:
    """Merge the parser's defaults, ``--config FILE`` and the options given on the command line.

    Each source's names pass through :func:`benchmark.config.run_fields`
    (the one alias table); :func:`benchmark.config.build_run_config` makes
    the merged options a RunConfig.
    """
    from benchmark.config import read_config_file

    explicit = vars(build_parser(defaults=False).parse_args(argv))
    options = run_defaults()
    config_file = explicit.get("config")
    if config_file is not None:
        options.update(read_config_file(config_file))
        options["config_file"] = config_file
    options.update(run_fields(explicit, "the command line"))
    if explicit.get("all"):
        options["decoders"] = None
    elif explicit.get("decoder"):
        options["all"] = False
    if not options["all"] and not options["decoders"]:
        raise BenchmarkError("run: give --all, --decoder NAME ... or --config FILE naming the decoders.")
    return options
