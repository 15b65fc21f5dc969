"""The task journal, ``<out>/tasks.jsonl``: the one module that reads and writes it.

A run appends one JSON row per finished task (flushed at once, so a killed
run keeps what it finished), then rewrites the file whole in task order.
``<out>/cache/journal/run.json`` records which run the journal belongs to and
whether it finished; :func:`load_for_report` uses it to rebuild the reports
of an interrupted run. :func:`load_run` reads a finished run (``tasks.jsonl``
and ``run.json``), :func:`previous_durations` a previous run's task times for
scheduling.

A row names its decoder ``decoder``, its top-1 imagine accuracy
``imagine_accuracy`` and whether the decoder is ranked ``ranked``, in memory,
in the journal and in the per-task result files (:mod:`benchmark.store`)
alike. Journals and result files written before these names (MOABB's
``pipeline`` and ``score``, and ``eligible``) are still read:
:func:`current_names`, called by every reader here and by
:meth:`benchmark.store.ResultStore.load`, is the one place old names are
mapped. MOABB's names come back only in the files written for MOABB
(:func:`benchmark.frames.results_csv`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from benchmark.errors import ReportInputError
from benchmark.files import environment_failure, read_json_object, write_text_atomic

logger = logging.getLogger(__name__)

__all__ = [
    "TASKS_FILE",
    "JOURNAL_INFO",
    "OLD_ROW_FIELDS",
    "current_names",
    "write_rows",
    "open_journal",
    "append_row",
    "write_journal_info",
    "load_run",
    "load_for_report",
    "previous_durations",
]

#: The journal's file name inside an output folder.
TASKS_FILE = "tasks.jsonl"
#: Run information of the journal being written, beside the result files.
JOURNAL_INFO = Path("cache") / "journal" / "run.json"
#: Keys every stored result row has (the runner writes them even for failed tasks).
REQUIRED_ROW_KEYS = ("decoder", "subject", "split", "status")
#: A stored row's field under its old name (journals and result files written before) -> today's name.
OLD_ROW_FIELDS = {"pipeline": "decoder", "score": "imagine_accuracy", "eligible": "ranked"}


def current_names(row):
    """Return a stored row with its old field names (:data:`OLD_ROW_FIELDS`) read as today's.

    The fields keep their order; a row already under today's names comes
    back equal. Anything that is not a dict is returned as it is (the
    callers say what is wrong with it).
    """
    if not isinstance(row, dict) or not any(old in row for old in OLD_ROW_FIELDS):
        return row
    return {OLD_ROW_FIELDS.get(k, k): v for k, v in row.items()}


def write_rows(path: Path, rows: Sequence[dict]) -> None:
    """Write one JSON row per line, atomically (temporary file renamed; removed on failure).

    Raises
    ------
    EnvironmentFailure
        On a full disk or an unwritable folder (the file is named).
    """
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def open_journal(path: Path) -> TextIO:
    """Open the journal for appending; :class:`EnvironmentFailure` naming it when the machine refuses."""
    try:
        return Path(path).open("a")
    except OSError as exc:
        raise environment_failure(exc, path, "opening the task journal") from exc


def append_row(log: TextIO, path: Path, row: dict) -> None:
    """Append ``row`` to the journal and flush it, so a killed run keeps it."""
    try:
        log.write(json.dumps(row) + "\n")
        log.flush()
    except OSError as exc:
        raise environment_failure(exc, path, "appending to the task journal") from exc


def write_journal_info(out: Path, run_info: dict, *, complete: bool) -> None:
    """Record which run ``<out>/tasks.jsonl`` is the journal of, and whether it finished.

    Written when a run starts (``complete=False``) and again once its
    reports are published; a run killed in between leaves ``complete``
    false, and :func:`load_for_report` then rebuilds the reports of what it
    finished.
    """
    info = {"complete": complete, "run_info": {**run_info, **({} if complete else {"interrupted": True})}}
    try:
        (Path(out) / JOURNAL_INFO).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_failure(exc, Path(out) / JOURNAL_INFO, "writing the journal") from exc
    write_text_atomic(Path(out) / JOURNAL_INFO, json.dumps(info, indent=2, default=str) + "\n")


def _task_order(rows: list[dict], run_info: dict) -> list[dict]:
    """``rows`` in task order: decoders, then subjects, as listed in ``run_info``."""
    decoders = {n: i for i, n in enumerate(run_info.get("decoders", []))}
    subjects = {n: i for i, n in enumerate(run_info.get("subjects", []))}
    return sorted(rows, key=lambda r: (decoders.get(r["decoder"], len(decoders)), r["decoder"],
                                       subjects.get(r["subject"], len(subjects)), r["subject"]))  # fmt: skip


def _parse_rows(tasks: Path) -> list[dict]:
    """Every row of a finished journal; :class:`ReportInputError` naming the file and line otherwise."""
    rows = []
    for number, line in enumerate(tasks.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = current_names(json.loads(line))
        except ValueError as exc:
            raise ReportInputError(f"{tasks}, line {number}: not a JSON object ({exc}).") from exc
        if not isinstance(row, dict):
            raise ReportInputError(
                f"{tasks}, line {number}: expected a JSON object, got {type(row).__name__}."
            )
        missing = [k for k in REQUIRED_ROW_KEYS if k not in row]
        if missing:
            raise ReportInputError(
                f"{tasks}, line {number}: a result row needs {list(REQUIRED_ROW_KEYS)}, this one lacks "
                f"{missing}. Was the file written by `python -m benchmark run`?"
            )
        row.setdefault("family", "")
        row.setdefault("ranked", True)
        rows.append(row)
    return rows


def _readable_rows(tasks: Path) -> list[dict]:
    """Read the rows of a journal a kill may have cut, skipping unparsable lines with a warning."""
    rows = []
    for line in tasks.read_text().splitlines():
        try:
            rows.append(current_names(json.loads(line)))
        except ValueError:  # a line cut by the kill
            logger.warning("%s: skipping a truncated line", tasks)
    return rows


def load_run(folder: Path) -> tuple[list[dict], dict]:
    """Rows (``tasks.jsonl``) and run information (``run.json``) of a stored run.

    Rows are put back in task order (decoders, then subjects, as in
    ``run.json``), so rebuilt reports equal the original ones.

    Raises
    ------
    FileNotFoundError
        If either file is missing.
    ReportInputError
        If a line of ``tasks.jsonl`` is not a result row or ``run.json`` is
        not a JSON object; the message names the file and line.
    """
    folder = Path(folder)
    tasks, info_file = folder / TASKS_FILE, folder / "run.json"
    for path in (tasks, info_file):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: is {folder} a folder written by `python -m benchmark run`?"
            )
    run_info = read_json_object(info_file)
    return _task_order(_parse_rows(tasks), run_info), run_info


def load_for_report(folder: Path) -> tuple[list[dict], dict]:
    """Rows and run information to rebuild the reports of ``folder`` from.

    Those of :func:`load_run` (``tasks.jsonl`` and ``run.json``), unless the
    journal belongs to a run that did not finish (killed, interrupted, or
    stopped by an error): then its rows, in task order, with that run's
    information marked ``"interrupted": true``.
    """
    folder = Path(folder)
    try:
        journal = json.loads((folder / JOURNAL_INFO).read_text())
    except (OSError, ValueError):
        journal = None
    tasks = folder / TASKS_FILE
    if not isinstance(journal, dict) or journal.get("complete", True) or not tasks.is_file():
        return load_run(folder)
    run_info = journal.get("run_info", {})
    rows = _task_order(_readable_rows(tasks), run_info)
    logger.warning("%s is the journal of a run that did not finish (started %s): reporting its %d rows",
                   tasks, run_info.get("started_utc", "?"), len(rows))  # fmt: skip
    return rows, run_info


def previous_durations(tasks_file: Path) -> dict[str, float]:
    """Mean task wall time per decoder in a previous run's ``tasks.jsonl``.

    Parameters
    ----------
    tasks_file : Path
        One JSON row per task (``decoder``, ``status``, ``wall_time``; old names read too).

    Returns
    -------
    dict
        Decoder name to mean ``wall_time`` (s) over its successful tasks;
        empty when the file is missing or unreadable (the order then stays
        as given). Unparsable lines are skipped.
    """
    try:
        lines = Path(tasks_file).read_text().splitlines()
    except OSError:
        return {}
    times: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        try:
            row = current_names(json.loads(line))
            if row.get("status") == "ok":
                times[str(row["decoder"])].append(float(row["wall_time"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return {name: sum(values) / len(values) for name, values in times.items() if values}
