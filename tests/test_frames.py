"""One name per concept inside the harness; MOABB's names only in the files written for MOABB.

The results frame and the leaderboard say ``decoder``, ``imagine_accuracy``
and ``ranked``; ``results.csv`` / ``results_all.csv`` keep MOABB's
``pipeline`` and ``score`` (and ``eligible`` beside ``ranked``),
``leaderboard.csv`` its ``eligible`` column.
"""

from __future__ import annotations

import numpy as np

from benchmark.frames import (
    MOABB_COLUMNS,
    leaderboard,
    leaderboard_csv,
    moabb_results,
    results_csv,
    results_frame,
)

OLD_NAMES = {"pipeline", "score", "eligible"}


def _rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, ranked in (("a", True), ("b", True), ("oracle", False)):
        for subject in ("sub-01", "sub-02", "sub-03"):
            y = rng.integers(0, 10, size=20)
            proba = rng.dirichlet(np.ones(10), size=20)
            rows.append(
                {"pipeline": name, "family": "linear", "eligible": ranked, "subject": subject,
                 "split": "train", "status": "ok", "error": "", "n_localizer": 80, "n_imagine": 20,
                 "channels": 24,
                 "score": float((proba.argmax(1) == y).mean()), "balanced_accuracy": 0.1, "top3": 0.3,
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
