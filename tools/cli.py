"""Command line of the developer tools: ``python -m tools profile [options]``.

The acceptance checks of a source checkout (timings of the fast paths next to
the slow ones, the whole-run targets, the cost curve, pytest-benchmark
rendering). They live outside the installed harness: :mod:`benchmark` never
imports :mod:`tools`; run this from the repository root.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmark.cli import configure_logging, is_environment_failure
from benchmark.errors import EXPECTED
from datasets import default
from datasets.simulate import SimulationConfig
from tools import profile, runtime_bench, scaling
from tools.checks import exit_code

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m tools``."""
    parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)
    prof = sub.add_parser(
        "profile", help="time the fast paths next to the slow ones (performance targets); exit 1 on a miss"
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


def run_command(args: argparse.Namespace) -> int:
    """Run the profile command (see the parser); returns the exit code."""
    if args.render is not None:
        out = runtime_bench.write_runtime_bench(args.render, args.render_out)
        print(f"{out} written from {args.render}")
        return 0
    full_run, run_limit = None, args.run_limit
    if args.full_run is not None:
        if args.full_run in ("default", "full"):
            full = args.full_run == "full"
            full_run = default.default_dataset(SimulationConfig.full() if full else None)
            run_limit = run_limit or (profile.FULL_SET_RUN_LIMIT_S if full else None)
        else:
            full_run = Path(args.full_run)
    if args.scaling_render is not None:
        written = scaling.rerender(args.scaling_render, args.scaling_out)
        print(", ".join(str(p) for p in written) + f" written from {args.scaling_render}")
        return 0
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {args.repeat}.")
    curve = None
    if args.scaling:
        curve = scaling.ScalingOptions(
            subjects=tuple(args.scaling_subjects),
            trials_per_class=tuple(args.scaling_trials),
            decoders=tuple(args.scaling_decoders) if args.scaling_decoders else None,
            n_jobs=args.n_jobs,
            backends=not args.scaling_no_backends,
            out=args.scaling_out,
        )
    options = profile.ProfileOptions(
        quick=args.quick,
        targets=tuple(args.targets),
        data=args.data,
        decoders=tuple(args.decoder) if args.decoder else None,
        subjects=tuple(args.subjects) if args.subjects else None,
        n_official_times=args.official_times,
        full_run=full_run,
        full_run_n_jobs=args.n_jobs,
        run_limit=run_limit or profile.RUN_LIMIT_S,
        timeout=args.timeout,
        keep=args.keep,
        repeat=args.repeat,
        scaling=curve,
    )
    checks, text = profile.run_profile(options)
    print(text, end="")
    if args.save is not None:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(text)
    return exit_code(checks)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 bad input, 3 the machine failed)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        return run_command(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (*EXPECTED, ValueError, OSError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 3 if is_environment_failure(exc) else 2
