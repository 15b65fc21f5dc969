"""Command line: ``python -m benchmark {run,list,simulate,sweep,robustness,report,submit,compare,download}``.

This module only sets up logging and signals, dispatches to
:mod:`benchmark.commands` and turns errors into exit codes; the parser is
:mod:`benchmark.parser`.

``download`` fetches the real data (:mod:`benchmark.download`).

Exit codes: see :data:`benchmark.parser.EXIT_CODES` (also printed by ``--help``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from benchmark import commands
from benchmark.errors import BenchmarkError
from benchmark.parser import build_parser

logger = logging.getLogger("benchmark")


#: The harness's own loggers: -vv shows their DEBUG lines, never a third-party library's.
HARNESS_LOGGERS = ("benchmark", "datasets", "decoders", "tools")
#: Third-party loggers that set their own level (or that of their handlers) when imported:
#: held at WARNING explicitly, whatever was imported before.
QUIET_LOGGERS = ("matplotlib", "PIL", "distributed", "urllib3", "numba", "fsspec", "asyncio", "tornado")


def configure_logging(verbosity: int) -> None:
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: tasks stopped, finished ones kept, one line said."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    import signal
    import threading

    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if on_main_thread else None
    try:
        return _main(args, argv)
    except KeyboardInterrupt as exc:
        kept = "finished tasks are kept in --out's cache/; rerun the same command to resume"
        word = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{word}: {kept}" if args.command == "run" else word, file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


#: Every subcommand but ``run`` (which also takes the raw argv) and its handler.
COMMANDS = {
    "list": commands.cmd_list,
    "simulate": commands.cmd_simulate,
    "sweep": commands.cmd_sweep,
    "robustness": commands.cmd_robustness,
    "report": commands.cmd_report,
    "submit": commands.cmd_submit,
    "compare": commands.cmd_compare,
    "download": commands.cmd_download,
}


def _main(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    try:
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        return commands.cmd_run(args, argv)
    except MemoryError:
        logger.debug("traceback of the error below", exc_info=True)
        print(
            "error: the harness itself ran out of memory; free memory or run fewer --n-jobs", file=sys.stderr
        )
        return 3
    except (BenchmarkError, ValueError, OSError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 3 if is_environment_failure(exc) else 2


def is_environment_failure(exc: BaseException) -> bool:
    """Return True for a failure of the machine (full disk, read-only folder), not of the input."""
    from benchmark.errors import EnvironmentFailure
    from benchmark.files import ENVIRONMENT_ERRNOS

    return isinstance(exc, EnvironmentFailure) or (
        isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS
    )
