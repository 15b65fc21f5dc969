"""Compare two report folders: flag score changes whose inputs did not change.

Used by the nightly job (``python -m benchmark compare OLD_DIR NEW_DIR``)
to check the freshly computed leaderboard against the committed one.

A decoder's inputs are unchanged when its task cache keys are the same (the
``inputs`` column of ``leaderboard.csv``: a digest of every task key, which
covers the decoder's file and helpers, the harness's scoring code, the
dataset fingerprint, the seed, the folds and the numerical libraries'
versions). For older folders without that column, the dataset fingerprint,
seed and a clean git revision of the code must all be equal. A score change
with unchanged inputs means non-determinism and fails the comparison;
runtime changes larger than the tolerance (25 %) are reported, never fatal.
``--changes-json FILE`` also writes the changes and whether they are worth
a commit (a score, a status or the set of decoders changed; the nightly job
commits nothing else).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.files import read_json_object

SCORE_COLUMNS = ("imagine_accuracy", "balanced_accuracy", "top3", "localizer_accuracy", "n_subjects")
RUNTIME_COLUMNS = ("fit_time_s", "predict_time_s")


@dataclass(frozen=True)
class Change:
    """One difference between the two folders.

    Attributes
    ----------
    decoder : str
        Decoder concerned.
    kind : str
        ``"score"``, ``"runtime"``, ``"status"``, ``"added"`` or ``"removed"``.
    message : str
        Human-readable description.
    fatal : bool
        True for a score change with unchanged inputs.
    """

    decoder: str
    kind: str
    message: str
    fatal: bool = False


@dataclass
class RunComparison:
    """Outcome of :func:`compare_runs`."""

    old: Path
    new: Path
    changes: list[Change] = field(default_factory=list)

    @property
    def worth_committing(self) -> bool:
        """True when a score, a status or the set of decoders changed (runtime changes alone are not)."""
        return any(c.kind in ("score", "status", "added", "removed") for c in self.changes)

    def to_dict(self) -> dict:
        """JSON-ready summary: ``commit`` (see :attr:`worth_committing`), ``failed`` and every change."""
        return {
            "old": str(self.old),
            "new": str(self.new),
            "commit": self.worth_committing,
            "failed": self.failed,
            "changes": [
                {"decoder": c.decoder, "kind": c.kind, "message": c.message, "fatal": c.fatal}
                for c in self.changes
            ],
        }

    @property
    def failed(self) -> bool:
        """True when some score changed although its inputs did not."""
        return any(c.fatal for c in self.changes)

    def to_markdown(self) -> str:
        """Render a short report for logs and job summaries."""
        lines = [f"# Leaderboard comparison\n\nold: `{self.old}`  \nnew: `{self.new}`\n"]
        if not self.changes:
            lines.append("No score, status or runtime change.")
        for kind, title in (
            ("score", "Score changes"),
            ("status", "Status changes"),
            ("runtime", "Runtime changes"),
            ("added", "New decoders"),
            ("removed", "Removed decoders"),
        ):
            selected = [c for c in self.changes if c.kind == kind]
            if selected:
                lines.append(f"\n## {title}\n")
                lines += [f"- {'**FAIL** ' if c.fatal else ''}`{c.decoder}`: {c.message}" for c in selected]
        verdict = "FAILED: scores changed with unchanged inputs." if self.failed else "OK"
        return "\n".join(lines) + f"\n\n{verdict}\n"


def _read(folder: Path) -> tuple[pd.DataFrame, dict]:
    board_file, info_file = folder / "leaderboard.csv", folder / "run.json"
    for path in (board_file, info_file):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: is {folder} a report folder written by `benchmark run`?"
            )
    from benchmark.errors import ReportInputError

    try:
        board = pd.read_csv(board_file, keep_default_na=False, na_values=[""], dtype={"inputs": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise ReportInputError(f"{board_file} is not a readable CSV file ({exc}).") from exc
    missing = [c for c in ("decoder", "status") if c not in board]
    if missing:
        raise ReportInputError(
            f"{board_file} lacks the column(s) {missing}: is it a leaderboard written by `benchmark run`?"
        )
    bad = [
        c
        for c in (*SCORE_COLUMNS, *RUNTIME_COLUMNS)
        if c in board and not pd.api.types.is_numeric_dtype(board[c])
    ]
    if bad:
        raise ReportInputError(f"{board_file}: column(s) {bad} hold text where numbers are expected.")
    if board["decoder"].duplicated().any():
        raise ReportInputError(f"{board_file}: decoder names repeat; each decoder has one row.")
    return board.set_index("decoder"), read_json_object(info_file)


def _run_inputs(info: dict) -> tuple | None:
    """Run-level inputs, or None if they cannot be trusted (dirty or unknown code)."""
    revision = str(info.get("git_revision", "unknown"))
    if revision == "unknown" or revision.endswith("+dirty"):
        return None
    config = info.get("config", {})
    return (info.get("fingerprint"), revision, config.get("seed"), config.get("localizer_folds"))


def _same_inputs(old_row: pd.Series, new_row: pd.Series, old_info: dict, new_info: dict) -> bool:
    old_key, new_key = old_row.get("inputs", ""), new_row.get("inputs", "")
    if isinstance(old_key, str) and isinstance(new_key, str) and old_key and new_key:
        return old_key == new_key
    old_run, new_run = _run_inputs(old_info), _run_inputs(new_info)
    return old_run is not None and old_run == new_run


def _differs(a, b, tol: float) -> bool:
    a_nan = a is None or (isinstance(a, float) and math.isnan(a))
    b_nan = b is None or (isinstance(b, float) and math.isnan(b))
    if a_nan or b_nan:
        return a_nan != b_nan
    return abs(float(a) - float(b)) > tol


def compare_runs(
    old: Path,
    new: Path,
    *,
    runtime_tolerance: float = 0.25,
    score_tolerance: float = 1e-9,
    min_seconds: float = 0.1,
) -> RunComparison:
    """Compare the leaderboards of two report folders.

    Parameters
    ----------
    old, new : Path
        Folders holding ``leaderboard.csv`` and ``run.json``.
    runtime_tolerance : float
        Relative fit/predict time change reported (0.25 = 25 %).
    score_tolerance : float
        Absolute score difference treated as a change.
    min_seconds : float
        Times below this in both runs are not compared (timer noise).

    Returns
    -------
    RunComparison

    Raises
    ------
    FileNotFoundError
        If a folder lacks ``leaderboard.csv`` or ``run.json``.
    """
    old_board, old_info = _read(Path(old))
    new_board, new_info = _read(Path(new))
    result = RunComparison(Path(old), Path(new))
    for name in sorted(set(new_board.index) - set(old_board.index)):
        result.changes.append(Change(name, "added", "not in the old leaderboard"))
    for name in sorted(set(old_board.index) - set(new_board.index)):
        result.changes.append(Change(name, "removed", "not in the new leaderboard"))
    for name in sorted(set(old_board.index) & set(new_board.index)):
        before, after = old_board.loc[name], new_board.loc[name]
        same = _same_inputs(before, after, old_info, new_info)
        moved = [
            f"{col} {before[col]:.6g} -> {after[col]:.6g}"
            for col in SCORE_COLUMNS
            if col in before and col in after and _differs(before[col], after[col], score_tolerance)
        ]
        if moved:
            why = "inputs unchanged: the decoder is not deterministic" if same else "inputs changed"
            result.changes.append(Change(name, "score", f"{'; '.join(moved)} ({why})", fatal=same))
        if str(before.get("status")) != str(after.get("status")):
            result.changes.append(Change(name, "status", f"{before.get('status')} -> {after.get('status')}"))
        for col in RUNTIME_COLUMNS:
            a, b = float(before.get(col, math.nan)), float(after.get(col, math.nan))
            if not (math.isfinite(a) and math.isfinite(b)) or max(a, b) < min_seconds:
                continue
            ratio = (b - a) / a if a > 0 else math.inf
            if abs(ratio) > runtime_tolerance:
                result.changes.append(Change(name, "runtime", f"{col} {a:.3g} s -> {b:.3g} s ({ratio:+.0%})"))
    return result
