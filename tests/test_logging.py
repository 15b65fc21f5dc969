"""The command line's output: quiet by default, -v INFO, -vv the harness's DEBUG; help; simulated notes."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import HARNESS_LOGGERS, configure_logging, main
from benchmark.parser import build_parser as _build_parser
from datasets.truth import METADATA_FILE

ROOT = Path(__file__).resolve().parent.parent
THIRD_PARTY = (
    "matplotlib.font_manager",
    "matplotlib",
    "PIL.PngImagePlugin",
    "distributed",
    "urllib3",
    "numba",
)


@pytest.fixture
def restore_levels():
    names = [*HARNESS_LOGGERS, "benchmark.runner", "pooch", *THIRD_PARTY, ""]
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("verbosity, harness", [(0, logging.WARNING), (1, logging.INFO), (2, logging.DEBUG)])
def test_verbosity_sets_the_harness_level_only(restore_levels, verbosity, harness):
    configure_logging(verbosity)
    for name in ("benchmark.runner", "datasets.adapter", "decoders.toolkit.scan", "tools.profile"):
        log = logging.getLogger(name)
        assert log.isEnabledFor(harness) and not log.isEnabledFor(harness - 10), (name, verbosity)
    for name in THIRD_PARTY:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), f"{name} is noise at -v{verbosity}"
    assert logging.getLogger("pooch").isEnabledFor(logging.INFO) is (verbosity > 0)  # download messages


@pytest.fixture(scope="module")
def small_run(foreign_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    args = ["--data", str(foreign_root), "--out", str(out), "--n-jobs", "1", "--localizer-folds", "0"]
    assert main(["run", "--decoder", "chance", *args]) == 0
    return out


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m benchmark ARGS`` with stderr a pipe (not a terminal), as in CI or `2> log`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "benchmark", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)  # fmt: skip


def test_quiet_by_default_and_no_progress_bar_in_a_pipe(foreign_root, tmp_path):
    args = [
        "run",
        "--decoder",
        "chance",
        "--data",
        str(foreign_root),
        "--n-jobs",
        "1",
        "--localizer-folds",
        "0",
    ]
    quiet = _cli(*args, "--out", str(tmp_path / "a"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", f"expected nothing on stderr, got:\n{quiet.stderr}"  # no INFO, no tqdm redraws
    assert "leaderboard" in quiet.stdout.lower()
    verbose = _cli("-v", *args, "--out", str(tmp_path / "b"))
    assert "INFO benchmark.experiment: 1 decoders x 3 subjects = 3 tasks" in verbose.stderr
    assert "DEBUG" not in verbose.stderr and "%|" not in verbose.stderr


def test_debug_shows_the_harness_and_no_third_party_noise(small_run, tmp_path):
    # rebuilding the reports draws every figure: matplotlib's font manager logs DEBUG lines by the dozen
    done = _cli("-vv", "report", str(small_run), "--out", str(tmp_path / "rebuilt"))
    assert done.returncode == 0, done.stderr
    broken = tmp_path / "broken"
    shutil.copytree(small_run, broken)
    (broken / "run.json").write_text('["not", "an", "object"]')
    failed = _cli("-vv", "report", str(broken))
    assert failed.returncode == 2
    lines = [line for line in (done.stderr + failed.stderr).splitlines() if re.match(r"(DEBUG|INFO) ", line)]
    assert any(line.startswith("DEBUG benchmark") for line in lines), failed.stderr  # the traceback
    names = {line.split()[1].rstrip(":") for line in lines}
    assert all(n.split(".")[0] in HARNESS_LOGGERS for n in names), f"third-party log lines: {names}"
    assert "font_manager" not in done.stderr + failed.stderr


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_help_texts_speak_of_the_project_not_of_issues():
    from tools.cli import build_parser as tools_parser

    parser, tools = _build_parser(), tools_parser()
    texts = {"": parser.format_help()} | {n: p.format_help() for n, p in _subparsers(parser).items()}
    texts |= {"tools": tools.format_help()} | {
        f"tools {n}": p.format_help() for n, p in _subparsers(tools).items()
    }
    assert "download" in texts and "tools profile" in texts
    for name, text in texts.items():
        assert not re.search(r"\bissues?\b|#\d", text, re.I), f"`{name} --help` speaks of an issue"
    assert "performance targets" in " ".join(texts["tools"].split())  # the list of commands


def test_submit_says_when_the_data_are_simulated(small_run, foreign_root, tmp_path, capsys):
    args = ["submit", "--decoder", "chance", "--from-run", str(small_run)]
    assert main([*args, "--data", str(foreign_root), "--out", str(tmp_path / "real.csv")]) == 0
    assert "SIMULATED" not in capsys.readouterr().out
    simulated = tmp_path / "sim" / "imagine"
    shutil.copytree(foreign_root, simulated)
    (truth := simulated.parent / "imagine-truth").mkdir()
    (truth / METADATA_FILE).write_text("{}")
    assert main([*args, "--data", str(simulated), "--out", str(tmp_path / "sim.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SIMULATED DATA: ") and "Kaggle rejects it" in out
