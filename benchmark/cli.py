"""Command line: ``python -m benchmark {run,list,simulate}``.

Exit codes: 0 success; 1 some tasks failed (their rows are in the reports);
2 bad input (unknown decoder, broken dataset, bad flag).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError

logger = logging.getLogger("benchmark")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmark",
        description="Compare MEG decoders on the IMAGINE challenge (localizer -> imagery transfer).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run decoders and write the reports")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every registered decoder")
    which.add_argument("--decoder", nargs="+", metavar="NAME", help="decoder name(s)")
    run.add_argument("--data", type=Path, help="dataset root (default: the simulated default)")
    run.add_argument("--subjects", nargs="+", metavar="SUB", help="subject names, e.g. sub-02")
    run.add_argument("--n-jobs", type=int, default=1, help="parallel tasks (default 1; -1 all cores)")
    run.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")
    run.add_argument("--seed", type=int, default=0, help="random_state of decoders and folds")
    run.add_argument("--localizer-folds", type=int, default=5, help="localizer CV folds (0 skips)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    sub.add_parser("list", help="list the registered decoders")

    sim = sub.add_parser("simulate", help="write a simulated dataset in the official layout")
    sim.add_argument("out", type=Path, help="dataset root to create (must not exist or be empty)")
    sim.add_argument("--full", action="store_true", help="the real study's size: 15 train + 14 test")
    sim.add_argument("--n-train", type=int, help="number of train subjects")
    sim.add_argument("--n-test", type=int, help="number of test subjects")
    sim.add_argument("--alpha", type=float, help="imagery transfer weight in [0, 1]")
    sim.add_argument("--snr", type=float, help="signal-to-noise scale")
    sim.add_argument("--seed", type=int, help="simulation seed")
    sim.add_argument("--truth", type=Path, help="ground-truth folder (default: OUT-truth)")
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logger.setLevel(min(level, logging.INFO))


def _cmd_list() -> int:
    from tabulate import tabulate

    from benchmark.registry import discover

    registry = discover(strict=False)
    rows = [
        (s.name, s.family, "yes" if s.eligible else "no", s.description) for s in registry.specs.values()
    ]
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


def _cmd_run(args: argparse.Namespace) -> int:
    from benchmark.config import RunConfig
    from benchmark.experiment import run_benchmark

    if args.data is None:
        from datasets.default import default_dataset

        logger.info("no --data given: using the simulated default dataset")
        data = default_dataset()
    else:
        data = args.data
    config = RunConfig(
        data=data,
        out=args.out,
        decoders=None if args.all else tuple(args.decoder),
        subjects=tuple(args.subjects) if args.subjects else None,
        n_jobs=args.n_jobs,
        seed=args.seed,
        localizer_folds=args.localizer_folds,
        progress=not args.no_progress,
    )
    summary = run_benchmark(config)
    print((config.out / "leaderboard.md").read_text())
    if summary.failures:
        print(f"{len(summary.failures)} task(s) failed:", file=sys.stderr)
        for row in summary.failures:
            print(f"  {row['pipeline']} on {row['subject']}: {row['error']}", file=sys.stderr)
        for origin, message in summary.broken.items():
            print(f"  broken decoder file {origin}: {message}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "simulate":
            return _cmd_simulate(args)
        return _cmd_run(args)
    except (BenchmarkError, ValueError, OSError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 2
