"""A dry run of the nightly workflow's scripts on a small dataset: gate, publish, constraints."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main as benchmark

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / ".github" / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def nightly():
    return _load("nightly")


@pytest.fixture(scope="module")
def good_run(foreign_root, tmp_path_factory) -> Path:
    """What the workflow's run step leaves in $RUNNER_TEMP/new: a finished run, every task ok."""
    out = tmp_path_factory.mktemp("new")
    args = ["--data", str(foreign_root), "--out", str(out), "--no-progress", "--n-jobs", "1"]
    code = benchmark(["run", "--decoder", "chance", "lda-peak", *args, "--localizer-folds", "0"])
    assert code == 0
    return out


def _copy(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def _timed_out(run: Path, dest: Path) -> Path:
    """The same run with one task killed by the timeout, as a slow runner would leave it."""
    new = _copy(run, dest)
    table = pd.read_csv(new / "results_all.csv", dtype=str, keep_default_na=False)
    row = table.index[(table["pipeline"] == "lda-peak") & (table["subject"] == "sub-02")][0]
    table.loc[row, ["status", "error", "score"]] = ["timeout", "killed after 1800 s", ""]
    table.to_csv(new / "results_all.csv", index=False)
    return new


def test_gate_passes_a_run_where_every_task_is_ok(nightly, good_run, tmp_path, capsys):
    summary = tmp_path / "summary.md"
    assert nightly.gate(good_run, 0, summary) == 0
    assert "Every task is ok" in summary.read_text()


def test_gate_stops_a_run_with_a_failed_task_naming_it(nightly, good_run, tmp_path, capsys, monkeypatch):
    new = _timed_out(good_run, tmp_path / "new")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert nightly.main(["gate", str(new), "--run-exit", "1"]) == 1
    out = capsys.readouterr().out
    assert "::error::lda-peak on sub-02: timeout (killed after 1800 s)" in out
    assert "chance on" not in out, "only the failed rows are named"
    assert "Not published: 1 task(s) failed" in summary.read_text()


def test_gate_stops_on_a_bad_exit_or_an_unfinished_run(nightly, good_run, tmp_path, capsys):
    assert nightly.gate(good_run, 1) == 1  # e.g. a decoder file that could not be imported
    assert "exited with code 1" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert nightly.gate(empty, 0) == 1
    assert "results_all.csv not found" in capsys.readouterr().out


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _checkout(tmp_path: Path, committed: Path, *, protect_main: bool = False) -> tuple[Path, Path]:
    """A clone of a bare 'origin' whose main holds ``committed`` as reports/; optionally protected."""
    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    shutil.copytree(committed, repo / "reports", ignore=shutil.ignore_patterns("cache"))
    _git(repo, "add", "-A")
    _git(repo, *ident, "commit", "-q", "-m", "initial")
    _git(repo, "remote", "add", "origin", str(origin))
    _git(repo, "push", "-q", "origin", "main")
    if protect_main:  # as GitHub answers a push to a protected branch
        hook = origin / "hooks" / "pre-receive"
        hook.write_text(
            '#!/bin/sh\nwhile read old new ref; do\n  [ "$ref" = refs/heads/main ] && '
            'echo "GH006: Protected branch update failed" >&2 && exit 1\ndone\nexit 0\n'
        )
        hook.chmod(0o755)
    return origin, repo


def test_publish_dry_run_commits_reports_and_history_without_pushing(nightly, good_run, tmp_path, capsys):
    old = _copy(good_run, tmp_path / "old")
    origin, repo = _checkout(tmp_path, old)
    before = _git(origin, "rev-parse", "main")
    new = _copy(good_run, tmp_path / "new")
    code = nightly.main(["publish", str(new), "--repo", str(repo), "--branch", "main", "--dry-run",
                         "--message", "Nightly test"])  # fmt: skip
    assert code == 0
    assert "dry run: would run git push origin HEAD:main" in capsys.readouterr().out
    assert _git(repo, "log", "-1", "--format=%s").strip() == "Nightly test"
    changed = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "reports/history.csv" in changed, "the published run joins the history"
    history = pd.read_csv(repo / "reports" / "history.csv")
    assert set(history["decoder"]) == {"chance", "lda-peak"}
    assert not (repo / "reports" / "cache").exists() and not (repo / "reports" / "runtime.json").exists()
    assert _git(origin, "rev-parse", "main") == before, "a dry run pushes nothing"


def test_publish_opens_a_pull_request_when_main_is_protected(
    nightly, good_run, tmp_path, monkeypatch, capsys
):
    origin, repo = _checkout(tmp_path, _copy(good_run, tmp_path / "old"), protect_main=True)
    before = _git(origin, "rev-parse", "main")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "gh-calls"
    (bin_dir / "gh").write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho https://example.org/pr/1\n')
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(shutil.which('git')).parent}:/usr/bin:/bin")
    new = _copy(good_run, tmp_path / "new")
    assert nightly.publish(new, repo, "main", message="Nightly test", open_pr=True, pause=0) == 0
    assert _git(origin, "rev-parse", "main") == before, "the protected branch is untouched"
    branches = _git(origin, "branch", "--format=%(refname:short)").split()
    side = next(b for b in branches if b.startswith("nightly/"))
    assert "reports/history.csv" in _git(origin, "show", "--name-only", "--format=", side).split()
    args = calls.read_text()
    assert args.startswith("pr create --base main --head nightly/") and "--title Nightly test" in args


def test_publish_pushes_to_an_open_branch(nightly, good_run, tmp_path):
    origin, repo = _checkout(tmp_path, _copy(good_run, tmp_path / "old"))
    assert nightly.publish(_copy(good_run, tmp_path / "new"), repo, "main", message="Nightly", pause=0) == 0
    assert _git(origin, "log", "-1", "--format=%s", "main").strip() == "Nightly"


def test_carry_then_publish_keeps_what_other_commands_committed(nightly, good_run, tmp_path):
    """A committed robustness run and raw benchmark timings survive a nightly publish; stale files go."""
    old = _copy(good_run, tmp_path / "old")
    (old / "robustness.csv").write_text("regime,alpha\n")
    (old / "runtime.json").write_text("{}")
    (old / "submissions" / "removed-decoder.csv").write_text("ID,label\n")
    origin, repo = _checkout(tmp_path, old)
    new = tmp_path / "new"
    carried = nightly.carry(repo / "reports", new)
    assert carried == ["tasks.jsonl", "runtime.md", "robustness.csv"]
    shutil.copytree(good_run, new, dirs_exist_ok=True, ignore=shutil.ignore_patterns("tasks.jsonl"))
    (new / "runtime.json").write_text('{"new": 1}')
    assert nightly.publish(new, repo, "main", message="Nightly", dry_run=True) == 0
    reports = repo / "reports"
    assert (reports / "robustness.csv").read_text() == "regime,alpha\n"
    assert (reports / "runtime.json").read_text() == "{}", "runtime.json is neither published nor deleted"
    assert not (reports / "submissions" / "removed-decoder.csv").exists()
    assert (reports / "history.csv").is_file() and not (reports / "cache").exists()


def test_constraints_pin_every_dependency():
    constraints = _load("update_constraints")
    pins = constraints.read_pins()
    assert constraints.missing_pins(pins, constraints.project_requirements()) == [], (
        "requirements/constraints.txt is stale: run .github/scripts/update_constraints.py"
    )
    assert all(version for version in pins.values()), "every line pins a version"
    broken = dict(pins)
    broken.pop("pooch")
    assert constraints.missing_pins(broken, constraints.project_requirements()) == ["pooch is not pinned"]
