"""The cost curve of ``profile --scaling`` (``tools.scaling``): fits, extrapolation, report, one tiny run."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from tools.scaling import (
    BackendPoint,
    PowerFit,
    RunPoint,
    ScalingOptions,
    ScalingResult,
    TrialPoint,
    busy_runs,
    decoder_fits,
    extrapolate,
    fit_power_law,
    load_scaling,
    plot_scaling,
    render_scaling,
    split_subjects,
    task_times,
    try_fit,
    write_scaling,
)


@pytest.mark.parametrize(("a", "k"), [(3.0, 1.0), (0.5, 2.0), (10.0, 0.3)])
def test_fit_power_law_recovers_exponent_and_scale(a, k):
    x = np.array([5.0, 10.0, 15.0, 29.0])
    fit = fit_power_law(x, a * x**k)
    assert fit.k == pytest.approx(k)
    assert fit.a == pytest.approx(a)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.n_points == 4
    assert fit.predict(100) == pytest.approx(a * 100**k)


def test_fit_power_law_on_noisy_points_has_r2_below_one():
    rng = np.random.default_rng(0)
    x = np.array([5.0, 10.0, 15.0, 29.0, 40.0])
    y = 2.0 * x**1.5 * np.exp(rng.normal(0, 0.2, x.size))
    fit = fit_power_law(x, y)
    assert 1.0 < fit.k < 2.0
    assert 0.5 < fit.r2 < 1.0


def test_fit_power_law_leaves_out_unusable_points_and_refuses_too_few():
    fit = fit_power_law([1, 2, 4, 0, 8], [2, 4, 8, 5, math.nan])
    assert fit.n_points == 3 and fit.k == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two points"):
        fit_power_law([5, 5], [1, 2])
    with pytest.raises(ValueError, match="two points"):
        fit_power_law([5], [1])
    with pytest.raises(ValueError, match="same length"):
        fit_power_law([1, 2], [1, 2, 3])
    assert try_fit([5], [1]) is None


@pytest.mark.parametrize(("n", "split"), [(29, (15, 14)), (15, (8, 7)), (10, (5, 5)), (5, (3, 2)),
                                          (3, (2, 1)), (2, (1, 1)), (1, (1, 0))])  # fmt: skip
def test_split_subjects_keeps_the_study_proportion(n, split):
    assert split_subjects(n) == split
    assert sum(split) == n


@pytest.mark.parametrize("n", [0, 30])
def test_split_subjects_refuses_counts_the_study_ids_cannot_hold(n):
    with pytest.raises(ValueError, match="1..29"):
        split_subjects(n)


def test_task_times_sum_or_average_ok_rows_per_decoder():
    rows = [
        {"decoder": "a", "status": "ok", "wall_time": 1.0},
        {"decoder": "a", "status": "ok", "wall_time": 3.0},
        {"decoder": "a", "status": "error", "wall_time": 100.0},
        {"decoder": "b", "status": "ok", "wall_time": 2.0},
    ]
    assert task_times(rows, "sum") == {"a": 4.0, "b": 2.0}
    assert task_times(rows, "mean") == {"a": 2.0, "b": 2.0}
    with pytest.raises(ValueError, match="'sum' or 'mean'"):
        task_times(rows, "max")


def _runs(sizes=(5, 10, 15, 29)):
    """Linear decoder 'lin' (1 s per subject), quadratic 'quad' (0.1 s x n^2); two processes, fully packed."""
    runs = []
    for n in sizes:
        times = {"lin": 1.0 * n, "quad": 0.1 * n**2}
        busy = sum(times.values())
        runs.append(
            RunPoint(n_subjects=n, n_train=split_subjects(n)[0], n_tasks=2 * n, n_failed=0, wall=busy / 2,
                     cpu=busy, peak_tree_mb=500.0 + n, peak_process_mb=400.0, task_time=times)
        )  # fmt: skip
    return runs


def test_decoder_fits_find_each_decoders_growth():
    fits = decoder_fits([(r.n_subjects, r.task_time) for r in _runs()])
    assert fits["lin"].k == pytest.approx(1.0)
    assert fits["quad"].k == pytest.approx(2.0)
    single = decoder_fits([(5, {"x": 1.0})])
    assert single == {"x": None}


def test_extrapolation_to_100_subjects_sums_decoders_and_fits_the_whole_run():
    runs = _runs()
    ext = extrapolate(runs, 100)
    assert ext.task_time["lin"] == pytest.approx(100.0)
    assert ext.task_time["quad"] == pytest.approx(1000.0)
    # the 29-subject run kept 2 processes busy: (29 + 84.1) / 56.55 = 2
    assert ext.wall_by_decoder == pytest.approx((100.0 + 1000.0) / 2)
    whole = fit_power_law([r.n_subjects for r in runs], [r.wall for r in runs])
    assert ext.wall_whole_run == pytest.approx(whole.predict(100))
    # the whole-run power law averages the exponents: it underestimates a quadratic tail
    assert 1.0 < whole.k < 2.0 and ext.wall_whole_run < ext.wall_by_decoder
    assert ext.peak_tree_mb > runs[-1].peak_tree_mb
    one = extrapolate(runs[:1], 100)
    assert math.isnan(one.wall_whole_run) and math.isnan(one.task_time["lin"])


def _result(backends=True):
    result = ScalingResult(
        runs=_runs(),
        trials=[TrialPoint(n, 2, {"lin": n / 100, "quad": (n / 100) ** 2}) for n in (120, 240, 480)],
        n_jobs=2,
        header=["machine: test box, 2 cores"],
    )
    if backends:
        result.backends = [
            BackendPoint("local", 1, 100.0, 98.0, 26, 0),
            BackendPoint("dask", 1, 110.0, 99.0, 26, 0),
            BackendPoint("local", 2, 50.0, 99.0, 26, 0),
            BackendPoint("dask", 2, 60.0, 101.0, 26, 0),
        ]
        result.backend_note = "the same tasks"
    else:
        result.backend_note = "Not measured: `distributed` is not installed"
    return result


def test_render_states_tables_growth_and_the_100_subject_cost():
    text = render_scaling(_result())
    assert text.startswith("# Cost curve")
    assert "- machine: test box, 2 cores" in text
    assert "| 29 (15 + 14) | 58 | 0 |" in text
    assert "| quad | 2.5 | 10.0 | 22.5 | 84.1 | n^2.00, R² 1.00 | 1000 s (16.7 min) | 10.0 s |" in text
    assert "| lin | 5.0 | 10.0 | 15.0 | 29.0 | n^1.00, R² 1.00 | 100.0 s | 1.0 s |" in text
    assert text.index("| quad |") < text.index("| lin |")  # fastest-growing first
    assert "sum of the per-decoder power laws" in text and "**550 s (9.2 min)**" in text
    assert "## Per decoder against trials per subject" in text
    assert "| quad | 1.44 | 5.76 | 23.04 | n^2.00, R² 1.00 |" in text
    assert "| dask | 2 | 26 | 0 | 60.0 s | 101.0 | 1.20 |" in text
    assert "| local | 1 | 26 | 0 | 100.0 s | 98.0 | 1.00 |" in text
    assert "dask with 2 workers: 1.20x" in text and "NOT met" in text


def test_render_flags_runs_on_a_busy_machine():
    result = _result()
    assert "Machine busy" not in render_scaling(result)  # loads unknown (NaN): nothing flagged
    result.n_cores = 2
    result.runs = [replace(r, load_before=1.0, load_after=1.9) for r in result.runs]
    result.runs[1] = replace(result.runs[1], load_after=2.6)
    result.runs[2] = replace(result.runs[2], load_after=2.1)  # the run's own 2 workers: not busy
    assert busy_runs(result) == (1, 4 + 3 + 4)
    text = render_scaling(result)
    assert "**Machine busy: re-run.**" in text and "1 of 11 runs" in text
    result.n_cores = 4
    assert busy_runs(result)[0] == 0 and "Machine busy" not in render_scaling(result)


def test_render_says_why_the_backends_are_missing_and_copes_with_one_point():
    text = render_scaling(_result(backends=False))
    assert "Not measured: `distributed` is not installed" in text
    assert "| backend |" not in text
    result = ScalingResult(runs=_runs((5,)), n_jobs=1)
    text = render_scaling(result)
    assert "wall time ~ -" in text  # one point: no fit, said as such
    assert "## Per decoder against trials per subject" not in text


def test_plot_and_write_produce_png_markdown_and_raw_numbers(tmp_path):
    paths = write_scaling(_result(), tmp_path / "reports")
    names = sorted(p.name for p in paths)
    assert names == ["scaling.json", "scaling.md", "scaling.png"]
    assert (tmp_path / "reports" / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = json.loads((tmp_path / "reports" / "scaling.json").read_text())
    assert [r["n_subjects"] for r in raw["runs"]] == [5, 10, 15, 29]
    empty = plot_scaling(ScalingResult(backend_note="skipped"), tmp_path / "empty.png")
    assert empty.stat().st_size > 0
    unmeasured = replace(_runs()[0], peak_tree_mb=math.nan)  # memory not sampled: still plotted
    assert plot_scaling(ScalingResult(runs=[unmeasured]), tmp_path / "nan.png").stat().st_size > 0


def test_options_refuse_counts_that_cannot_be_simulated():
    with pytest.raises(ValueError, match="1..29"):
        ScalingOptions(subjects=(5, 40))
    with pytest.raises(ValueError, match="positive"):
        ScalingOptions(subjects=())
    with pytest.raises(ValueError, match=">= 1"):
        ScalingOptions(trials_per_class=(0,))
    assert isinstance(PowerFit(1.0, 2.0, 1.0, 2).predict(3), float)


@pytest.mark.slow  # three `python -m benchmark run` processes on tiny datasets (~20 s on an idle machine)
def test_scaling_end_to_end_on_tiny_datasets(tmp_path, monkeypatch):
    from tests.foreign_files import write_foreign_dataset
    from tools.scaling import run_scaling

    monkeypatch.setenv("IMAGINE_BENCH_HOME", str(tmp_path / "home"))
    made = []

    def tiny(n_subjects, per_class):
        n_train, n_test = split_subjects(n_subjects)
        root = tmp_path / f"data-{n_subjects}-{per_class}"
        if not root.exists():
            write_foreign_dataset(root, n_train=n_train, n_test=n_test, n_loc_per_class=per_class)
        made.append((n_subjects, per_class))
        return root

    options = ScalingOptions(subjects=(2, 3), trials_per_class=(5,), decoders=("chance",), n_jobs=1,
                             backends=False, out=tmp_path / "reports", dataset=tiny)  # fmt: skip
    paths = run_scaling(options, tmp_path / "work", timeout=120)
    assert made == [(2, 48), (3, 48), (2, 5)]
    text = (tmp_path / "reports" / "scaling.md").read_text()
    raw = json.loads((tmp_path / "reports" / "scaling.json").read_text())
    assert [(r["n_subjects"], r["n_tasks"], r["n_failed"]) for r in raw["runs"]] == [(2, 2, 0), (3, 3, 0)]
    assert [r["n_train"] for r in raw["runs"]] == [1, 2]
    assert all(r["wall"] > 0 and r["peak_process_mb"] > 0 and r["peak_tree_mb"] > 0 for r in raw["runs"])
    assert all(set(r["task_time"]) == {"chance"} for r in raw["runs"])
    assert [(t["n_trials"], t["n_subjects"], t["n_failed"]) for t in raw["trials"]] == [(50, 2, 0)]
    assert "| 3 (2 + 1) | 3 | 0 |" in text and "| chance |" in text
    assert "Not measured (`--scaling-no-backends`)" in text
    assert len(paths) == 3


def test_scaling_json_renders_again_without_measuring(tmp_path, capsys):
    from tools.cli import main

    result = _result()
    result.n_cores = 2
    write_scaling(result, tmp_path / "first")
    loaded = load_scaling(tmp_path / "first" / "scaling.json")
    assert render_scaling(loaded) == render_scaling(result)  # NaN loads: compare what is rendered
    result.runs = [replace(r, load_before=1.0, load_after=3.0) for r in result.runs]
    result.trials = [replace(t, load_before=0.5, load_after=0.5) for t in result.trials]
    result.backends = [replace(b, load_before=0.5, load_after=0.5) for b in result.backends]
    write_scaling(result, tmp_path / "first")
    assert load_scaling(tmp_path / "first" / "scaling.json") == result
    argv = ["profile", "--scaling-render", str(tmp_path / "first" / "scaling.json"),
            "--scaling-out", str(tmp_path / "again")]  # fmt: skip
    assert main(argv) == 0
    assert "scaling.md" in capsys.readouterr().out
    assert (tmp_path / "again" / "scaling.md").read_text() == render_scaling(result)
    assert (tmp_path / "again" / "scaling.png").stat().st_size > 0
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="'runs' list"):
        load_scaling(tmp_path / "bad.json")
