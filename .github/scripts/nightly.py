"""The nightly workflow's decisions, in code a test can run: publish a run only when every task is ok.

    python .github/scripts/nightly.py carry reports NEW_DIR
    python .github/scripts/nightly.py gate NEW_DIR --run-exit CODE
    python .github/scripts/nightly.py publish NEW_DIR [--repo .] [--branch main] [--open-pr] [--dry-run]

``carry`` copies the committed files a run starts from or leaves alone
(:data:`CARRIED`) into the run folder. ``gate`` reads
``NEW_DIR/results_all.csv`` (one row per task) and exits 1, naming every
task whose status is not ``ok`` (decoder, subject, status, error), when any
task failed or the run's own exit code was not 0: such a run is kept as an
artifact but never committed. ``publish`` appends the run to
``reports/history.csv``, copies the regenerated reports into ``reports/``,
commits them and pushes to ``--branch``, retrying after a rebase when
someone pushed meanwhile; when the branch refuses the push (a protected
``main``), it pushes a ``nightly/<date>`` branch instead and, with
``--open-pr``, opens a pull request with ``gh pr create``. ``--dry-run`` commits
locally and prints the push and pull-request commands instead of running
them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, when not installed

#: Files of a run folder that are not published (cache of task results, raw timings); a
#: committed ``reports/runtime.json`` (written by ``tox -e bench``) is left as it is.
NOT_PUBLISHED = ("cache", "runtime.json")
#: Committed files the nightly run starts from: its task order (``tasks.jsonl``), the sections and
#: rows it adds to (``runtime.md``, ``history.csv``), and what other commands wrote, which the
#: run leaves alone and the page shows (a robustness run, the scaling curve).
CARRIED = (
    "tasks.jsonl", "runtime.md", "history.csv", "robustness.csv", "robustness.md", "robustness.png",
    "robustness-subjects.csv", "scaling.md", "scaling.png", "scaling.json",
)  # fmt: skip
#: Statuses of a task that may be published.
OK = "ok"


def failed_tasks(new: Path) -> list[str]:
    """Return one line per task of the run in ``new`` whose status is not ok.

    Raises
    ------
    FileNotFoundError
        If the run wrote no ``results_all.csv`` (it did not finish).
    """
    import pandas as pd

    table = new / "results_all.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} not found: the run did not finish, nothing to publish")
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    if frame.empty:
        raise FileNotFoundError(f"{table} lists no task: nothing to publish")
    bad = frame[frame["status"] != OK]
    return [
        f"{row.pipeline} on {row.subject}: {row.status}" + (f" ({row.error})" if row.error else "")
        for row in bad.itertuples()
    ]


def gate(new: Path, run_exit: int, summary: Path | None = None) -> int:
    """Exit code 0 when the run in ``new`` may be published, else 1 with the failed tasks named."""
    try:
        failed = failed_tasks(new)
    except FileNotFoundError as exc:
        failed = [str(exc)]
    if run_exit != 0 and not failed:
        failed = [f"the run exited with code {run_exit} (a decoder file could not be imported?)"]
    lines = (
        [f"Not published: {len(failed)} task(s) failed; the reports are in the artifact.", ""]
        + [f"- {line}" for line in failed]
        if failed
        else ["Every task is ok: the run may be published."]
    )
    if summary is not None:
        with summary.open("a") as fh:
            fh.write("\n".join(lines) + "\n")
    for line in failed:
        print(f"::error::{line}")
    print("\n".join(lines))
    return 1 if failed else 0


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, check=check, capture_output=True, text=True)


def carry(reports: Path, new: Path) -> list[str]:
    """Copy the :data:`CARRIED` files of the committed ``reports`` into the run folder ``new``."""
    new.mkdir(parents=True, exist_ok=True)
    carried = [name for name in CARRIED if (reports / name).is_file()]
    for name in carried:
        shutil.copy2(reports / name, new / name)
    return carried


def copy_reports(new: Path, reports: Path) -> None:
    """Make ``reports`` hold the published files of ``new`` (as ``rsync --delete`` with excludes).

    Entries of ``reports`` that ``new`` no longer has are deleted (a removed
    decoder's submission, say), except :data:`NOT_PUBLISHED` ones, which are
    neither copied nor deleted.
    """
    reports.mkdir(parents=True, exist_ok=True)
    for entry in reports.iterdir():
        if entry.name not in NOT_PUBLISHED and not (new / entry.name).exists():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in new.iterdir():
        if entry.name in NOT_PUBLISHED:
            continue
        target = reports / entry.name
        if entry.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(entry, target)
        else:
            shutil.copy2(entry, target)


def publish(
    new: Path, repo: Path, branch: str, *, message: str, open_pr: bool = False, dry_run: bool = False,
    attempts: int = 5, pause: float = 15.0,
) -> int:  # fmt: skip
    """Commit the run in ``new`` as ``repo/reports`` and push it; return the exit code.

    A rejected push is retried after ``git pull --rebase``; when the branch
    still refuses it (protected), the commit goes to a ``nightly/<date>``
    branch and, with ``open_pr``, a pull request into ``branch``.
    """
    from benchmark.cli import main as benchmark

    if benchmark(["report", str(new), "--append-history"]) != 0:  # this run joins the history
        print("::error::could not rebuild the reports with the history", file=sys.stderr)
        return 1
    copy_reports(new, repo / "reports")
    _git(repo, "add", "-A", "reports")
    if _git(repo, "diff", "--cached", "--quiet", check=False).returncode == 0:
        print("reports/ unchanged: nothing to commit")
        return 0
    _git(repo, "-c", "user.name=github-actions[bot]",
         "-c", "user.email=41898282+github-actions[bot]@users.noreply.github.com",
         "commit", "-q", "-m", message)  # fmt: skip
    if dry_run:
        print(f"dry run: would run git push origin HEAD:{branch}")
        if open_pr:
            print(f"dry run: if refused, would push nightly/<date> and gh pr create --base {branch}")
        return 0
    for attempt in range(1, attempts + 1):
        pushed = _git(repo, "push", "origin", f"HEAD:{branch}", check=False)
        if pushed.returncode == 0:
            print(f"pushed to {branch}")
            return 0
        refused = "protected" in pushed.stderr or "declined" in pushed.stderr or "hook" in pushed.stderr
        if refused:
            break
        print(f"push attempt {attempt} failed ({pushed.stderr.strip()}); rebasing and retrying")
        if _git(repo, "pull", "--rebase", "origin", branch, check=False).returncode != 0:
            _git(repo, "rebase", "--abort", check=False)
        time.sleep(pause * attempt)
    else:
        print(f"::error::could not push to {branch} after {attempts} attempts", file=sys.stderr)
        return 1
    side = f"nightly/{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M}"
    print(f"{branch} refuses the push (protected?): pushing {side} instead")
    if _git(repo, "push", "origin", f"HEAD:refs/heads/{side}", check=False).returncode != 0:
        print(f"::error::could not push {side} either", file=sys.stderr)
        return 1
    if not open_pr:
        print(f"::warning::the reports are on branch {side}; open a pull request into {branch}")
        return 0
    title = message.splitlines()[0]
    body = f"The nightly run's reports ({title}); {branch} refused a direct push."
    done = subprocess.run(
        ["gh", "pr", "create", "--base", branch, "--head", side, "--title", title, "--body", body],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    print(done.stdout + done.stderr)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("carry", help="copy the committed files a nightly run starts from into NEW_DIR")
    c.add_argument("reports", type=Path, metavar="REPORTS_DIR")
    c.add_argument("new", type=Path, metavar="NEW_DIR")
    g = sub.add_parser("gate", help="exit 1 naming the failed tasks unless every task is ok")
    g.add_argument("new", type=Path, metavar="NEW_DIR")
    g.add_argument("--run-exit", type=int, required=True, help="exit code of `python -m benchmark run`")
    p = sub.add_parser("publish", help="commit NEW_DIR as reports/ and push it (or open a pull request)")
    p.add_argument("new", type=Path, metavar="NEW_DIR")
    p.add_argument("--repo", type=Path, default=Path("."), help="the checkout")
    p.add_argument("--branch", default=os.environ.get("GITHUB_REF_NAME", "main"), help="branch to push to")
    p.add_argument("--message", default=None, help="commit message")
    p.add_argument("--open-pr", action="store_true", help="open a pull request when the push is refused")
    p.add_argument("--dry-run", action="store_true", help="commit, but print the push instead of running it")
    p.add_argument("--pause", type=float, default=15.0, help="seconds before the first push retry")
    args = parser.parse_args(argv)
    if args.command == "carry":
        print("carried: " + (", ".join(carry(args.reports, args.new)) or "nothing"))
        return 0
    if args.command == "gate":
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        return gate(args.new, args.run_exit, Path(summary) if summary else None)
    message = args.message or f"Nightly leaderboard {dt.datetime.now(dt.UTC):%Y-%m-%d} [skip ci]"
    return publish(args.new, args.repo, args.branch, message=message, open_pr=args.open_pr,
                   dry_run=args.dry_run, pause=args.pause)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
