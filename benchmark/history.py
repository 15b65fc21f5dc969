"""Files other runs leave beside a report set: the nightly ``history.csv`` and a robustness matrix."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.errors import ReportInputError
from benchmark.runinfo import dataset_label

logger = logging.getLogger(__name__)


#: Leaderboard history, one block of rows per recorded run (appended by the nightly job).
HISTORY_FILE = "history.csv"


HISTORY_COLUMNS = [
    "run_utc", "git_revision", "dataset", "fingerprint", "decoder", "ranked", "imagine_accuracy",
    "ci_low", "ci_high", "balanced_accuracy", "top3", "n_subjects", "status",
]  # fmt: skip


def history_rows(board: pd.DataFrame, run_info: dict, rows: Sequence[dict] = ()) -> pd.DataFrame:
    """One history row per decoder of ``board`` for the run described by ``run_info``."""
    frame = pd.DataFrame(
        {
            "run_utc": run_info.get("started_utc", ""),
            "git_revision": run_info.get("git_revision", ""),
            "dataset": dataset_label(run_info, rows),
            "fingerprint": run_info.get("fingerprint", ""),
            "decoder": board["decoder"],
            "ranked": board["ranked"].astype(bool),
            **{c: board[c] for c in HISTORY_COLUMNS[7:]},
            "imagine_accuracy": board["imagine_accuracy"],
        }
    )
    return frame[HISTORY_COLUMNS]


def load_history(folder: Path) -> pd.DataFrame | None:
    """``folder/history.csv`` or None when there is none.

    Raises
    ------
    ReportInputError
        If the file is not a CSV with the history's columns (the message names it).
    """
    path = Path(folder) / HISTORY_FILE
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path} is not a readable CSV file ({exc}); fix or delete it.") from exc
    missing = [c for c in ("run_utc", "decoder", "ranked", "imagine_accuracy") if c not in frame]
    if missing:
        raise ReportInputError(f"{path} lacks the column(s) {missing}; fix or delete it.")
    return frame


def append_history(folder: Path, board: pd.DataFrame, run_info: dict, rows: Sequence[dict] = ()) -> Path:
    """Append this run's leaderboard to ``folder/history.csv`` (once per run).

    Rows already recorded for the same ``run_utc`` and decoder are replaced,
    so appending a run twice leaves one copy.

    Returns
    -------
    Path
        The history file.
    """
    path = Path(folder) / HISTORY_FILE
    new = history_rows(board, run_info, rows)
    old = load_history(folder)
    if old is not None:
        same_run = old["run_utc"].astype(str).isin(set(new["run_utc"].astype(str)))
        new = pd.concat([old[~same_run], new], ignore_index=True)
    tmp = path.with_suffix(".csv.tmp")
    new.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


#: Columns of ``robustness.csv`` the page's robustness section reads.
ROBUSTNESS_COLUMNS = ("regime", "alpha", "decoder", "eligible", "accuracy", "ceiling", "margin_fraction")


def load_robustness(folder: Path) -> pd.DataFrame | None:
    """Return ``folder/robustness.csv`` (a robustness run's matrix) for the page, or None.

    The file's ``eligible`` column is read as ``ranked``, the harness's name.
    None when there is no such file, or when it cannot be read or lacks a
    column (a warning names the file): the page is then built without it,
    never lost.
    """
    path = Path(folder) / "robustness.csv"
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        logger.warning("%s is not readable (%s): the page has no robustness section", path, exc)
        return None
    missing = [c for c in ROBUSTNESS_COLUMNS if c not in table]
    if missing:
        logger.warning("%s lacks the column(s) %s: the page has no robustness section", path, missing)
        return None
    return table.rename(columns={"eligible": "ranked"})
