"""One name per concept inside the harness; MOABB's names only in the files written for MOABB.

The result rows (in memory, ``tasks.jsonl``, the task files), the results
frame and the leaderboard say ``decoder``, ``imagine_accuracy`` and
``ranked``; a journal written under the old names still loads.
``results.csv`` / ``results_all.csv`` keep MOABB's ``pipeline`` and
``score`` (and ``eligible`` beside ``ranked``), ``leaderboard.csv`` its
``eligible`` column.
"""

from __future__ import annotations

import json

import numpy as np

from benchmark.frames import (
    MOABB_COLUMNS,
    leaderboard,
    leaderboard_csv,
    moabb_results,
    results_csv,
    results_frame,
    task_csv,
)
from benchmark.journal import OLD_ROW_FIELDS, load_for_report, load_run, previous_durations

OLD_NAMES = {"pipeline", "score", "eligible"}


def _rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, ranked in (("a", True), ("b", True), ("oracle", False)):
        for subject in ("sub-01", "sub-02", "sub-03"):
            y = rng.integers(0, 10, size=20)
            proba = rng.dirichlet(np.ones(10), size=20)
            rows.append(
                {"decoder": name, "family": "linear", "ranked": ranked, "subject": subject,
                 "split": "train", "status": "ok", "error": "", "n_localizer": 80, "n_imagine": 20,
                 "channels": 24,
                 "imagine_accuracy": float((proba.argmax(1) == y).mean()), "balanced_accuracy": 0.1,
                 "top3": 0.3,
                 "localizer_accuracy": 0.2, "fit_time": 1.0, "predict_time": 0.1, "time": 1.1,
                 "wall_time": 1.2, "peak_memory_mb": 10.0, "key": f"{name}{subject}", "cached": False,
                 "proba": proba.tolist(), "y_true": y.tolist()}
            )  # fmt: skip
    return rows


def test_frames_use_the_harness_names():
    results = results_frame(_rows(), "imagine-simulated")
    assert not OLD_NAMES & set(results.columns)
    assert {"decoder", "imagine_accuracy", "ranked"} <= set(results.columns)
    board = leaderboard(results)
    assert not OLD_NAMES & set(board.columns)
    assert list(board.loc[board["ranked"], "rank"]) == ["1", "2"] and board["rank"].iloc[-1] == "-"


def test_files_keep_moabbs_names_and_columns():
    results = results_frame(_rows(), "imagine-simulated")
    written = results_csv(results)
    assert list(written.columns[: len(MOABB_COLUMNS)]) == MOABB_COLUMNS
    position = list(written.columns).index("ranked")
    assert list(written.columns[position : position + 2]) == ["ranked", "eligible"]
    assert (written["eligible"] == written["ranked"]).all()
    assert (written["score"].to_numpy() == results["imagine_accuracy"].to_numpy()).all()
    moabb = results_csv(moabb_results(results))
    assert set(moabb["pipeline"]) == {"a", "b"}  # the unranked oracle stays out of MOABB's file
    board = leaderboard_csv(leaderboard(results))
    assert "eligible" in board and "ranked" not in board


def test_task_csv_keeps_the_simulation_files_names():
    written = task_csv(results_frame(_rows(), "imagine-simulated"))
    assert {"pipeline", "eligible", "score"} <= set(written.columns)
    assert not {"decoder", "ranked", "imagine_accuracy"} & set(written.columns)


def _old_named(row: dict) -> dict:
    """``row`` as journals written before issue 25 stored it (``pipeline``, ``score``, ``eligible``)."""
    new_to_old = {new: old for old, new in OLD_ROW_FIELDS.items()}
    return {new_to_old.get(k, k): v for k, v in row.items()}


def test_a_journal_with_the_old_names_loads_under_todays(tmp_path):
    rows = _rows()
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(_old_named(r)) + "\n" for r in rows))
    (tmp_path / "run.json").write_text(json.dumps({"decoders": ["a", "b", "oracle"], "config": {"seed": 0}}))
    loaded, _ = load_run(tmp_path)
    assert loaded == rows  # same fields, same order, today's names
    assert load_for_report(tmp_path)[0] == rows
    assert previous_durations(tmp_path / "tasks.jsonl") == {"a": 1.2, "b": 1.2, "oracle": 1.2}
    old = results_frame(loaded, "imagine-simulated")
    assert old.equals(results_frame(rows, "imagine-simulated"))
