"""Longest-first task order from the previous run's durations."""

import json

import benchmark.runner as runner
from benchmark.config import RunConfig
from benchmark.experiment import run_benchmark
from benchmark.journal import TASKS_FILE, previous_durations
from benchmark.schedule import longest_first


def _write_rows(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")


def test_previous_durations_average_ok_rows_and_skip_bad_lines(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    _write_rows(tasks, [
        {"decoder": "a", "status": "ok", "wall_time": 2.0},
        {"decoder": "a", "status": "ok", "wall_time": 4.0},
        {"decoder": "a", "status": "timeout", "wall_time": 1800.0},  # not a duration estimate
        {"decoder": "b", "status": "ok", "wall_time": 1.0},
        {"decoder": "c", "status": "ok"},
        {"pipeline": "d", "status": "ok", "wall_time": 5.0},  # a journal's old name for the decoder
        "{not json",
        "[1, 2]",
    ])  # fmt: skip
    assert previous_durations(tasks) == {"a": 3.0, "b": 1.0, "d": 5.0}
    assert previous_durations(tmp_path / "missing.jsonl") == {}


def test_longest_first_puts_unknown_then_slow_first_and_keeps_ties_in_order():
    items = [("fast", 1), ("slow", 1), ("new", 1), ("fast", 2), ("slow", 2), ("new", 2)]
    ordered = longest_first(items, {"fast": 1.0, "slow": 9.0}, name=lambda item: item[0])
    assert ordered == [("new", 1), ("new", 2), ("slow", 1), ("slow", 2), ("fast", 1), ("fast", 2)]


def test_run_starts_the_slowest_decoder_first_and_reports_in_task_order(foreign_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    config = RunConfig(data=foreign_root, out=out, decoders=("chance", "lda-peak"), subjects=("sub-02",),
                       progress=False, localizer_folds=0, n_jobs=1)  # fmt: skip
    started: list[list[str]] = []
    original = runner._execute

    def spy(jobs, config, resources):
        started.append([job.label["decoder"] for job in jobs])
        return original(jobs, config, resources)

    monkeypatch.setattr(runner, "_execute", spy)
    first = run_benchmark(config)
    assert started[-1] == ["chance", "lda-peak"]  # no history: the given order
    durations = previous_durations(out / TASKS_FILE)
    assert durations["lda-peak"] > durations["chance"]  # measured, not assumed
    second = run_benchmark(RunConfig(**{**config.__dict__, "force": True}))
    assert started[-1] == ["lda-peak", "chance"]
    assert [r["decoder"] for r in second.rows] == [r["decoder"] for r in first.rows]
