"""Command line: ``python -m benchmark {run,list,simulate,report,submit,compare,profile}``.

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
    run.add_argument("--n-jobs", type=int, default=-1, help="parallel tasks (default -1: one per core)")
    run.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")
    run.add_argument("--seed", type=int, default=0, help="random_state of decoders and folds")
    run.add_argument("--localizer-folds", type=int, default=5, help="localizer CV folds (0 skips)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--timeout", type=float, default=1800.0, help="seconds per task before it is killed")
    run.add_argument("--max-memory", type=float, metavar="MB", help="memory cap per task in MB")
    run.add_argument("--force", action="store_true", help="recompute tasks whose results are stored")
    run.add_argument(
        "--no-data-cache", action="store_true", help="read the FIF files every time (no array cache)"
    )
    run.add_argument(
        "--backend", choices=("local", "dask"), default="local",
        help="local: one forked process per task (default); dask: a dask.distributed cluster",
    )  # fmt: skip
    run.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="dask scheduler, e.g. tcp://host:8786 (default: a local cluster of --n-jobs workers)",
    )  # fmt: skip

    lst = sub.add_parser("list", help="list the registered decoders")
    lst.add_argument("--markdown", action="store_true", help="the README's decoder table (Markdown)")
    for p in (run, lst):
        p.add_argument(
            "--moabb-pipelines", nargs="+", type=Path, default=[], metavar="PATH",
            help="MOABB pipeline YAML files, or folders of them, to run as decoders too",
        )  # fmt: skip

    sim = sub.add_parser("simulate", help="write a simulated dataset in the official layout")
    sim.add_argument("out", type=Path, help="dataset root to create (must not exist or be empty)")
    sim.add_argument("--full", action="store_true", help="the real study's size: 15 train + 14 test")
    sim.add_argument("--n-train", type=int, help="number of train subjects")
    sim.add_argument("--n-test", type=int, help="number of test subjects")
    sim.add_argument("--alpha", type=float, help="imagery transfer weight in [0, 1]")
    sim.add_argument("--snr", type=float, help="signal-to-noise scale")
    sim.add_argument("--seed", type=int, help="simulation seed")
    sim.add_argument("--truth", type=Path, help="ground-truth folder (default: OUT-truth)")

    swp = sub.add_parser("sweep", help="run decoders on simulated data across transfer strengths alpha")
    swp.add_argument("--alpha", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0], help="alphas")
    swp.add_argument("--decoder", nargs="+", metavar="NAME", help="decoder name(s) (default: all)")
    swp.add_argument("--n-train", type=int, default=4, help="simulated train subjects per alpha")
    swp.add_argument("--snr", type=float, help="signal-to-noise scale of the simulation")
    swp.add_argument("--seed", type=int, default=0, help="simulation and decoder seed")
    swp.add_argument("--n-jobs", type=int, default=-1, help="parallel tasks (default: one per core)")
    swp.add_argument("--localizer-folds", type=int, default=0, help="localizer CV folds (0 skips)")
    swp.add_argument("--out", type=Path, default=Path("reports"), help="report folder (default reports/)")

    rep = sub.add_parser("report", help="rebuild every report file of a stored run (tasks.jsonl + run.json)")
    rep.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="folder written by `run`")
    rep.add_argument("--out", type=Path, help="write the reports there (default: RESULTS_DIR)")

    subm = sub.add_parser("submit", help="write and validate a Kaggle submission for the test subjects")
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

    cmp_ = sub.add_parser("compare", help="compare two report folders (fails on unexplained score changes)")
    cmp_.add_argument("old", type=Path, metavar="OLD_DIR")
    cmp_.add_argument("new", type=Path, metavar="NEW_DIR")
    cmp_.add_argument(
        "--runtime-tolerance", type=float, default=0.25, help="relative runtime change reported"
    )

    prof = sub.add_parser(
        "profile", help="time the fast paths next to the slow ones (issue #6 targets); exit 1 on a miss"
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
        "default, 10 subjects; the default) or 'full' (the simulated full-size set, 29 subjects)",
    )  # fmt: skip
    prof.add_argument("--n-jobs", type=int, default=-1, help="--n-jobs of --full-run (default -1 as in run)")
    prof.add_argument(
        "--run-limit", type=float,
        help="target 3 in seconds (default 600; 1800 with --full-run full)",
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


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logger.setLevel(min(level, logging.INFO))


def _cmd_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from benchmark.registry import discover, markdown_table

    registry = discover(strict=False, pipelines=args.moabb_pipelines)
    if args.markdown:
        print(markdown_table(registry), end="")
        return 1 if registry.broken else 0
    rows = [(s.name, s.family, "yes" if s.eligible else "no", s.description) for s in registry.specs.values()]
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
    from datasets.default import cache_home

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
        timeout=args.timeout,
        max_memory_mb=args.max_memory,
        force=args.force,
        data_cache=None if args.no_data_cache else cache_home() / "arrays",
        backend=args.backend,
        scheduler=args.scheduler,
    )
    if config.backend == "dask" and args.verbose < 2:  # distributed logs every worker's start and stop
        import dask.config

        dask.config.set({"distributed.logging.distributed": "warning"})
    summary = run_benchmark(config, pipelines=args.moabb_pipelines)
    print((config.out / "leaderboard.md").read_text())
    if summary.failures:
        print(f"{len(summary.failures)} task(s) failed:", file=sys.stderr)
        for row in summary.failures:
            print(f"  {row['pipeline']} on {row['subject']}: {row['error']}", file=sys.stderr)
        for origin, message in summary.broken.items():
            print(f"  broken decoder file {origin}: {message}", file=sys.stderr)
        return 1
    return 0


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


def _cmd_report(args: argparse.Namespace) -> int:
    import shutil

    from benchmark.report import load_run, write_reports
    from benchmark.runner import TASKS_FILE

    rows, run_info = load_run(args.results_dir)
    out = args.out or args.results_dir
    write_reports(rows, out, run_info)
    if out.resolve() != args.results_dir.resolve():
        shutil.copyfile(args.results_dir / TASKS_FILE, out / TASKS_FILE)
    print((out / "leaderboard.md").read_text())
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    import json
    import tempfile

    import pandas as pd

    from benchmark.report import expected_submission_ids, submission_frame, validate_submission
    from datasets.adapter import ChallengeDataset

    data = args.data
    if data is None and args.from_run is not None:
        info_file = args.from_run / "run.json"
        data = Path(json.loads(info_file.read_text())["dataset_root"]) if info_file.is_file() else None
    if data is None:
        from datasets.default import default_dataset

        logger.info("no --data given: using the simulated default dataset")
        data = default_dataset()
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
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
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
    print(
        f"{out}: {len(frame)} rows for {len(test_subjects)} test subject(s), "
        f"validated against {dataset.root}. The public leaderboard scores all test rows: "
        "choose decoders on the train subjects, not by submitting."
    )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from benchmark.compare import compare_runs

    result = compare_runs(args.old, args.new, runtime_tolerance=args.runtime_tolerance)
    print(result.to_markdown())
    return 1 if result.failed else 0


def _cmd_profile(args: argparse.Namespace) -> int:
    # the acceptance checks live outside the harness package, in the repository's tools/
    try:
        import tools.profile  # noqa: F401
    except ImportError:
        raise BenchmarkError(
            "`profile` runs tools/profile.py of a source checkout: run it from the repository root."
        ) from None
    from tools.profile import (
        FULL_SET_RUN_LIMIT_S,
        RUN_LIMIT_S,
        ProfileOptions,
        exit_code,
        run_profile,
        write_runtime_bench,
    )

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
        if args.command == "report":
            return _cmd_report(args)
        if args.command == "submit":
            return _cmd_submit(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "profile":
            return _cmd_profile(args)
        return _cmd_run(args)
    except (BenchmarkError, ValueError, OSError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 2
