"""``profile``'s parts (``tools.timing``, ``tools.checks``, ``tools.runtime_bench``) and its targets."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from tools.checks import (
    AT_LEAST,
    AT_MOST,
    Check,
    exit_code,
    format_check,
    format_report,
    machine_busy,
    measure_checks,
    speedup,
    speedup_check,
    verdict,
    with_load,
)
from tools.cli import main
from tools.profile import official_time_points
from tools.runs import RunMeasurement
from tools.runtime_bench import render_benchmark_json, write_runtime_bench
from tools.timing import Timing, available_cores, interleaved_order, measure, measure_interleaved

BENCH_JSON = {
    "machine_info": {
        "node": "box",
        "processor": "x86_64",
        "machine": "x86_64",
        "python_implementation": "CPython",
        "python_version": "3.11.9",
        "system": "Linux",
        "release": "6.1",
        "cpu": {"brand_raw": "Test CPU @ 2.0GHz", "count": 2},
    },
    "commit_info": {"id": "0123456789abcdef0123", "dirty": True},
    "benchmarks": [
        {
            "group": None,
            "name": "test_slow",
            "fullname": "tests/benchmarks/test_x.py::test_slow",
            "stats": {"min": 2.0, "max": 4.0, "mean": 3.0, "stddev": 1.0, "rounds": 2},
            "extra_info": {"peak_accuracy": 0.41234567, "shape": [480, 306, 121]},
        },
        {
            "group": "load",
            "name": "test_fast",
            "fullname": "tests/benchmarks/test_x.py::test_fast",
            "stats": {"min": 0.01, "max": 0.03, "mean": 0.02, "stddev": 0.005, "rounds": 5},
            "extra_info": {},
        },
    ],
    "datetime": "2025-01-01T00:00:00+00:00",
    "version": "5.3.1",
}


def test_speedup_is_baseline_over_candidate():
    assert speedup(30.0, 3.0) == pytest.approx(10.0)
    assert speedup(1.0, 0.0) == math.inf
    assert math.isnan(speedup(0.0, 0.0))
    with pytest.raises(ValueError, match="finite and >= 0"):
        speedup(-1.0, 1.0)


@pytest.mark.parametrize(
    ("value", "kind", "passed"),
    [(10.0, AT_LEAST, True), (9.99, AT_LEAST, False), (1.0, AT_MOST, True), (1.01, AT_MOST, False),
     (math.nan, AT_LEAST, False), (math.nan, AT_MOST, False)],
)  # fmt: skip
def test_check_compares_with_its_threshold(value, kind, passed):
    threshold = 10.0 if kind == AT_LEAST else 1.0
    assert Check("x", "t", value, threshold, kind).passed is passed


def test_check_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="at_least"):
        Check("x", "t", 1.0, 1.0, kind="bigger")


def test_speedup_check_uses_wall_time_and_reports_cpu_ratio():
    slow, fast = Timing("slow", wall=40.0, cpu=20.0), Timing("fast", wall=2.0, cpu=4.0)
    check = speedup_check("1a", "fast vs slow", slow, fast, 10.0)
    assert check.value == pytest.approx(20.0)
    assert check.passed
    assert check.timings == (slow, fast)
    assert "CPU-time ratio 5.0x" in check.details[0]
    assert not speedup_check("1a", "t", slow, fast, 25.0).passed


def test_exit_code_ignores_checks_that_are_not_enforced():
    ok = Check("a", "t", 2.0, 1.0)
    miss = Check("b", "t", 0.5, 1.0)
    smoke = Check("c", "t", 0.5, 1.0, enforced=False)
    assert exit_code([ok]) == 0
    assert exit_code([ok, smoke]) == 0
    assert exit_code([ok, miss, smoke]) == 1
    assert (ok.status, miss.status, smoke.status) == ("PASS", "MISS", "miss")


def test_report_shows_both_timings_target_and_extrapolation_note():
    base = Timing("official", 1200.0, 1190.0, note="EXTRAPOLATED: 6 of 121 time points")
    fast = Timing("batched", 3.0, 2.9, runs=3)
    check = speedup_check("1b", "batched vs official", base, fast, 100.0)
    text = format_check(check)
    assert "[1b] PASS" in text
    assert "400.0x (target >= 100.0x)" in text
    assert "wall  1200.000 s" in text and "cpu  1190.000 s" in text
    assert "best of 3" in text and "EXTRAPOLATED" in text
    report = format_report([check, Check("2b", "memory", 3000.0, 2048.0, AT_MOST, "MB")], ["head"], ["foot"])
    assert report.startswith("head\n")
    assert "[2b] MISS" in report and "3000 MB (target <= 2048 MB)" in report
    assert report.rstrip().endswith("missed 2b.")


def test_measure_returns_the_fastest_run_and_the_result():
    calls = []
    timing, result = measure("noop", lambda: calls.append(1) or len(calls), repeat=3)
    assert result == 3 and timing.runs == 3
    assert 0 <= timing.wall < 1 and timing.cpu >= 0
    with pytest.raises(ValueError, match="repeat"):
        measure("noop", lambda: None, repeat=0)


def test_official_time_points_are_evenly_spaced_and_include_both_ends():
    idx = official_time_points(121, 6)
    assert idx.tolist() == [0, 24, 48, 72, 96, 120]
    assert official_time_points(3, 6).tolist() == [0, 1, 2]
    assert isinstance(idx, np.ndarray)


def test_render_benchmark_json_lists_stats_and_machine():
    text = render_benchmark_json(BENCH_JSON, source="runtime.json")
    assert "| Test CPU @ 2.0GHz |" in text
    assert "| cores | 2 |" in text
    assert "0123456789ab (dirty)" in text
    assert (
        "| test_slow | 3.000 | 1.000 | 2.000 | 4.000 | 2 | peak_accuracy=0.4123, shape=[480, 306, 121] |"
        in text
    )
    assert "| load: test_fast | 0.020 | 0.005 | 0.010 | 0.030 | 5 |  |" in text


def test_render_refuses_json_that_is_not_pytest_benchmark():
    with pytest.raises(ValueError, match="'benchmarks' list"):
        render_benchmark_json({"foo": 1})


def test_render_cli_writes_bench_section_and_keeps_the_runs_section(tmp_path, capsys):
    from benchmark.markdown import write_section

    source = tmp_path / "runtime.json"
    source.write_text(json.dumps(BENCH_JSON))
    out = tmp_path / "reports" / "runtime.md"
    out.parent.mkdir()
    write_section(out, "run", "## Last run, per decoder\n\n| lda-peak | 1.0 |")
    assert main(["profile", "--render", str(source), "--render-out", str(out)]) == 0
    text = out.read_text()
    assert render_benchmark_json(BENCH_JSON, source="runtime.json").strip() in text
    assert "| lda-peak | 1.0 |" in text  # the run's section survives
    assert str(out) in capsys.readouterr().out
    # rendering again (or the run rewriting its section) replaces, never duplicates
    write_runtime_bench(source, out)
    write_section(out, "run", "## Last run, per decoder\n\n| lda-peak | 2.0 |")
    text = out.read_text()
    assert text.count("## Benchmark timings") == 1 and text.count("## Last run") == 1
    assert "| lda-peak | 2.0 |" in text and "| lda-peak | 1.0 |" not in text
    assert text.startswith("# Runtime")


@pytest.mark.parametrize(
    ("argv", "n_subjects", "limit"),
    [
        (["--full-run"], 10, 600.0),
        (["--full-run", "full"], 29, 720.0),
        (["--full-run", "full", "--run-limit", "900"], 29, 900.0),
    ],
    ids=["default-10-subjects", "full-29-subjects", "explicit-limit"],
)
def test_full_run_choices_pick_dataset_and_limit(argv, n_subjects, limit, monkeypatch, tmp_path):
    import datasets.default as default
    import tools.profile as profile

    seen = {}

    def fake_dataset(config=None, home=None):
        seen["config"] = config
        return tmp_path / "data"

    def fake_run(options):
        seen["options"] = options
        return [], "report\n"

    monkeypatch.setattr(default, "default_dataset", fake_dataset)
    monkeypatch.setattr(profile, "run_profile", fake_run)
    assert main(["profile", "--targets", *argv]) == 0
    config = seen["config"]
    subjects = 10 if config is None else config.n_train + config.n_test
    assert subjects == n_subjects
    options = seen["options"]
    assert options.full_run == tmp_path / "data" and options.run_limit == limit
    assert options.full_run_n_jobs == -1  # as `run`'s default: one process per core


# ----------------------------------------------------------------------------
# issue 14 item 5: load average, "machine busy: re-run", interleaved timing
# ----------------------------------------------------------------------------
IDLE, LOADED = (0.5, 0.7, 0.9), (3.5, 2.0, 1.0)


@pytest.mark.parametrize(
    ("value", "kind", "before", "after", "cores", "expected"),
    [
        (12.0, AT_LEAST, IDLE, IDLE, 2, "PASS"),
        (12.0, AT_LEAST, LOADED, LOADED, 2, "PASS"),  # a pass on a busy machine still counts
        (8.0, AT_LEAST, IDLE, IDLE, 2, "MISS"),
        (8.0, AT_LEAST, LOADED, IDLE, 2, "BUSY"),  # busy before
        (8.0, AT_LEAST, IDLE, LOADED, 2, "BUSY"),  # busy after
        (8.0, AT_LEAST, LOADED, LOADED, 4, "MISS"),  # 3.5 does not exceed 4 cores
        (8.0, AT_LEAST, (2.0, 9.0, 9.0), (2.0, 9.0, 9.0), 2, "MISS"),  # 1-min load == cores: not above
        (8.0, AT_LEAST, IDLE, (2.1, 1.5, 1.0), 2, "MISS"),  # a 2-worker run's own load on 2 cores
        (8.0, AT_LEAST, IDLE, (2.6, 1.5, 1.0), 2, "BUSY"),  # half a process more than the cores
        (700.0, AT_MOST, LOADED, IDLE, 2, "BUSY"),
        (500.0, AT_MOST, LOADED, IDLE, 2, "PASS"),
        (math.nan, AT_LEAST, LOADED, LOADED, 2, "BUSY"),
        (8.0, AT_LEAST, None, None, 2, "MISS"),  # load unknown: a plain miss
        (8.0, AT_LEAST, LOADED, LOADED, None, "MISS"),  # cores unknown: a plain miss
    ],
)
def test_verdict_from_value_target_load_and_cores(value, kind, before, after, cores, expected):
    threshold = 10.0 if kind == AT_LEAST else 600.0
    assert verdict(value, threshold, kind, before, after, cores) == expected


def test_verdict_never_blames_the_load_for_an_untimed_miss():
    assert verdict(3.0, 1.0, AT_MOST, LOADED, LOADED, 2, timed=False) == "MISS"
    assert machine_busy(LOADED, None, 2) and not machine_busy(IDLE, IDLE, 2)
    assert not machine_busy(LOADED, LOADED, 0)


def test_busy_miss_is_reported_not_verified_and_does_not_fail_the_exit_code():
    busy = Check("1a", "batched vs sliding", 8.0, 10.0, load_before=LOADED, load_after=IDLE, n_cores=2)
    miss = Check("1b", "batched vs official", 80.0, 100.0, load_before=IDLE, load_after=IDLE, n_cores=2)
    memory = Check("2b", "memory", 3000.0, 2048.0, AT_MOST, "MB", timed=False,
                   load_before=LOADED, load_after=LOADED, n_cores=2)  # fmt: skip
    assert (busy.status, miss.status, memory.status) == ("BUSY", "MISS", "MISS")
    assert exit_code([busy]) == 0
    assert exit_code([busy, miss]) == 1
    text = format_check(busy)
    assert text.startswith("[1a] machine busy: re-run  batched vs sliding")
    assert "FAIL" not in text and "MISS" not in text
    assert "load average before 3.5 / 2.0 / 1.0, after 0.5 / 0.7 / 0.9 (1/5/15 min; 2 cores)" in text
    assert "NOT VERIFIED" in text
    report = format_report([busy, miss])
    assert report.rstrip().endswith("missed 1b; NOT VERIFIED (machine busy: re-run) 1a.")
    assert format_report([busy]).rstrip().endswith("checks: NOT VERIFIED (machine busy: re-run) 1a.")
    smoke = replace(busy, enforced=False)  # --quick: said, but neither counted nor listed
    assert smoke.status == "busy" and "[1a] machine busy: re-run" in format_check(smoke)
    assert "NOT VERIFIED" not in format_check(smoke)
    assert format_report([smoke]).rstrip().endswith("every enforced target met.")


def test_measure_checks_records_the_load_before_and_after_the_measurement():
    loads = iter([IDLE, LOADED])
    seen = []

    def run():
        seen.append("measured")
        return [Check("1a", "t", 8.0, 10.0), Check("1c", "t", 0.0, 1.0, AT_MOST, "pp", timed=False)]

    checks = measure_checks(run, loadavg=lambda: next(loads), n_cores=2)
    assert seen == ["measured"]
    assert [c.load_before for c in checks] == [IDLE, IDLE]
    assert [c.load_after for c in checks] == [LOADED, LOADED]
    assert [c.status for c in checks] == ["BUSY", "PASS"]
    assert with_load(checks, None, None, 8)[0].status == "MISS"
    assert available_cores() >= 1


def test_interleaved_order_alternates_the_sides():
    assert interleaved_order(2, 3) == [0, 1, 0, 1, 0, 1]
    assert interleaved_order(3, 2) == [0, 1, 2, 0, 1, 2]
    assert interleaved_order(1, 2) == [0, 0]
    with pytest.raises(ValueError, match=">= 1"):
        interleaved_order(2, 0)


class FakeClock:
    """A clock that each fake call advances by its own scripted duration."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_measure_interleaved_runs_abab_and_keeps_the_best_of_each_side():
    wall, cpu = FakeClock(), FakeClock()
    calls = []
    durations = {"A": iter([5.0, 3.0, 4.0]), "B": iter([1.0, 2.0, 0.5])}

    def side(name):
        def fn():
            calls.append(name)
            step = next(durations[name])
            wall.now += step
            cpu.now += step / 2  # CPU half of the wall time in this fake
            return f"{name}{len(calls)}"

        return fn

    (a_t, a_res), (b_t, b_res) = measure_interleaved(
        [("slow A", side("A")), ("fast B", side("B"))], 3, clock=wall, cpu_clock=cpu
    )
    assert calls == ["A", "B", "A", "B", "A", "B"]
    assert (a_t.label, a_t.wall, a_t.cpu, a_t.runs) == ("slow A", 3.0, 1.5, 3)
    assert (b_t.label, b_t.wall, b_t.cpu, b_t.runs) == ("fast B", 0.5, 0.25, 3)
    assert (a_res, b_res) == ("A5", "B6")  # the last result of each side
    check = speedup_check("1a", "B vs A", a_t, b_t, 10.0)
    assert check.value == pytest.approx(6.0)


def test_measure_uses_the_same_scheduler_with_one_side():
    clock = FakeClock()
    steps = iter([2.0, 1.0])

    def fn():
        clock.now += next(steps)

    timing, _ = measure("one", fn, repeat=2, note="n", clock=clock, cpu_clock=clock)
    assert (timing.wall, timing.runs, timing.note) == (1.0, 2, "n")
    with pytest.raises(ValueError, match="at least one"):
        measure_interleaved([], 2)


def test_cli_passes_repeat_and_scaling_options(monkeypatch, tmp_path):
    import tools.profile as profile

    seen = []

    def fake_run(options):
        seen.append(options)
        return [], ""

    monkeypatch.setattr(profile, "run_profile", fake_run)
    argv = ["profile", "--targets", "--repeat", "4", "--scaling", "--scaling-subjects", "2", "3",
            "--scaling-trials", "--scaling-decoders", "chance", "--scaling-no-backends",
            "--scaling-out", str(tmp_path), "--n-jobs", "1"]  # fmt: skip
    assert main(argv) == 0
    options = seen[-1]
    assert options.repeat == 4 and options.targets == ()
    scaling = options.scaling
    assert scaling.subjects == (2, 3) and scaling.trials_per_class == ()
    assert scaling.decoders == ("chance",) and not scaling.backends
    assert scaling.out == tmp_path and scaling.n_jobs == 1
    assert main(["profile", "--targets"]) == 0
    assert seen[-1].scaling is None and seen[-1].repeat == 2


def test_cli_refuses_bad_scaling_counts(capsys):
    assert main(["profile", "--targets", "--scaling", "--scaling-subjects", "30"]) == 2
    assert "1..29" in capsys.readouterr().err
    assert main(["profile", "--targets", "--repeat", "0"]) == 2


def test_parallel_target_alternates_the_runs_and_keeps_the_fastest_of_each(monkeypatch, tmp_path):
    import tools.profile as profile

    walls = iter([150.0, 95.0, 140.0, 99.0])  # --n-jobs 1, 2, 1, 2
    calls = []

    def fake_run_cli(data, out, *, n_jobs, **kwargs):
        calls.append(n_jobs)
        wall = next(walls)
        row = {"decoder": "lda-peak", "subject": "sub-01", "status": "ok", "peak_memory_mb": wall}
        return RunMeasurement(Timing(f"run --n-jobs {n_jobs}", wall, wall), 0, out, [row], 2 * wall)

    monkeypatch.setattr(profile, "run_cli", fake_run_cli)
    monkeypatch.setattr(profile, "warm_data_cache", lambda data: None)
    checks = {
        c.target: c
        for c in profile.check_parallel_and_memory(
            tmp_path, tmp_path, decoders=None, subjects=None, timeout=60.0, repeat=2
        )
    }
    assert calls == [1, 2, 1, 2]
    assert checks["4"].value == pytest.approx(140.0 / 95.0)  # best of each side
    assert [t.runs for t in checks["4"].timings] == [2, 2]
    assert "150.0 / 95.0, 140.0 / 99.0" in " ".join(checks["4"].details)
    assert checks["2b"].value == 150.0 and checks["2c"].value == 300.0  # every run counts for memory
