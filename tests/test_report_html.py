"""Reports from result rows: leaderboard columns, figures, index.html, `report` command.

The rows are made here (no decoder runs), so these tests are fast; the
end-to-end tests cover rows written by the real runner.
"""

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.report import load_run, write_reports

TRAIN = [f"sub-{i:02d}" for i in range(2, 10)]
TEST = ["sub-40"]
TIMES = np.round(np.arange(-0.2, 1.0, 0.05), 6)


def _rows(rng: np.random.Generator) -> list[dict]:
    rows = []
    for name, family, strength, curve in (
        ("good", "linear", 3.0, True),
        ("also-good", "linear", 2.8, False),
        ("chance", "baseline", 0.0, False),
        ("broken", "linear", 0.0, False),
    ):
        for subject in TRAIN + TEST:
            split = "train" if subject in TRAIN else "test"
            row = {
                "pipeline": name, "family": family, "eligible": True, "subject": subject, "split": split,
                "status": "ok", "error": "", "n_localizer": 80, "n_imagine": 20, "channels": 24,
                "localizer_accuracy": 0.1 + 0.1 * strength, "fit_time": 0.5 + strength, "predict_time": 0.01,
                "time": 0.5, "wall_time": 1.0, "peak_memory_mb": 12.0, "key": f"{name}-{subject}",
                "trial_idx": list(range(1, 21)),
            }  # fmt: skip
            if name == "broken" and subject == TRAIN[0]:
                label = {k: row[k] for k in ("pipeline", "family", "eligible", "subject", "split")}
                rows.append(label | {"status": "timeout", "error": "killed after 1 s", "wall_time": 1.0})
                continue
            y = rng.permutation(np.repeat(np.arange(10), 2))
            logits = rng.normal(size=(20, 10))
            logits[np.arange(20), y] += strength
            proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            row["proba"] = np.round(proba, 6).tolist()
            if split == "train":
                hits = proba.argmax(1) == y
                row.update(score=hits.mean(), balanced_accuracy=hits.mean(), top3=min(1.0, hits.mean() + 0.2))
                row["y_true"] = y.tolist()
                if curve:
                    bump = strength * np.exp(-0.5 * ((TIMES - 0.4) / 0.1) ** 2)
                    row["evidence_curve"] = np.round(bump + rng.normal(0, 0.3, TIMES.size), 6).tolist()
                    row["evidence_times"] = TIMES.tolist()
            else:
                row.update(score=np.nan, balanced_accuracy=np.nan, top3=np.nan)
            rows.append(row)
    return rows


RUN_INFO = {
    "dataset": "fake", "dataset_root": "/nowhere", "fingerprint": "0123456789abcdef",
    "config": {"seed": 0, "localizer_folds": 5}, "decoders": ["also-good", "broken", "chance", "good"],
    "subjects": TRAIN + TEST, "git_revision": "abc123", "versions": {"python": "3.11", "mne": "1.13"},
    "started_utc": "2025-01-01T00:00:00+00:00",
}  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    import matplotlib

    out = tmp_path_factory.mktemp("reports")
    rows = _rows(np.random.default_rng(0))
    rc_before = dict(matplotlib.rcParams)
    board = write_reports(rows, out, RUN_INFO)
    assert dict(matplotlib.rcParams) == rc_before, "writing reports changed matplotlib's global style"
    with (out / "tasks.jsonl").open("w") as fh:  # as the runner writes it
        for row in rows[::-1]:
            fh.write(json.dumps(row) + "\n")
    return out, board


def test_leaderboard_columns_and_ranking(written):
    out, board = written
    csv = pd.read_csv(out / "leaderboard.csv")
    for column in ("rank", "decoder", "family", "imagine_accuracy", "ci_low", "ci_high", "median",
                   "p_vs_chance",
                   "p_wilcoxon", "p_signflip", "balanced_accuracy", "top3", "p_top3", "n_significant",
                   "tied_with_best", "localizer_accuracy", "fit_time_s", "predict_time_s", "peak_memory_mb",
                   "status"):  # fmt: skip
        assert column in csv, column
    assert csv["decoder"].tolist()[:2] == ["good", "also-good"] or csv["decoder"].tolist()[:2] == [
        "also-good",
        "good",
    ]
    assert csv["imagine_accuracy"].is_monotonic_decreasing
    good = csv.set_index("decoder").loc["good"]
    assert good["ci_low"] <= good["imagine_accuracy"] <= good["ci_high"]
    assert good["n_significant"] >= 6 and good["p_signflip"] == pytest.approx(1 / 256)
    tied = csv.set_index("decoder")["tied_with_best"]
    assert tied["good"] and tied["also-good"] and not tied["chance"]
    assert csv.set_index("decoder").loc["broken", "status"] == "ok 8, timeout 1"
    md = (out / "leaderboard.md").read_text()
    assert "| 1 =" in md and "bootstrap" in md and "subjects p<=.05" in md


def test_results_csv_has_moabb_schema_and_subject_p_values(written):
    out, _ = written
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[:9]) == ["score", "time", "samples", "subject", "session", "channels",
                                        "n_sessions", "dataset", "pipeline"]  # fmt: skip
    train = results[(results["split"] == "train") & (results["status"] == "ok")]
    assert train["p_binomial"].between(0, 1).all() and train["p_permutation"].between(0, 1).all()
    assert not {"proba", "y_true", "evidence_curve"} & set(results.columns)
    pairwise = pd.read_csv(out / "pairwise.csv")
    assert len(pairwise) == 4 * 3 and pairwise["p_holm_two_sided"].between(0, 1).all()


def test_moabb_analysis_accepts_results(written):
    from moabb.analysis.meta_analysis import collapse_session_scores

    results = pd.read_csv(written[0] / "results.csv")
    collapsed = collapse_session_scores(results[results["split"] == "train"].dropna(subset=["score"]))
    assert set(collapsed["pipeline"]) == {"good", "also-good", "chance", "broken"}


def test_figures_written_and_embedded(written):
    out, _ = written
    names = {p.stem for p in (out / "figures").glob("*.png")}
    assert names == {"subject_scores", "time_courses", "confusion", "pairwise", "runtime"}
    page = (out / "index.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 5
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'id="leaderboard"' in page and '<td class="text">good</td>' in page
    assert "0123456789abcdef" in page and "&quot;seed&quot;: 0" in page
    assert not re.search(r"(src|href)=\"(?!data:)", page), "the page must not load external files"


def test_time_course_cluster_listed(written):
    page = (written[0] / "index.html").read_text()
    assert re.search(r"<b>good</b> \(8 subjects\): 0\.\d\d-0\.\d\d s \(p = ", page), (
        "no significant cluster listed"
    )


def test_report_command_rebuilds_identical_files(written, tmp_path, capsys):
    out, _ = written
    rebuilt = tmp_path / "rebuilt"
    assert main(["report", str(out), "--out", str(rebuilt)]) == 0
    for name in ("leaderboard.csv", "leaderboard.md", "results.csv", "pairwise.csv", "runtime.md"):
        assert (rebuilt / name).read_text() == (out / name).read_text(), name
    assert (rebuilt / "index.html").is_file() and (rebuilt / "tasks.jsonl").is_file()
    assert "# Leaderboard" in capsys.readouterr().out


def test_load_run_restores_task_order(written):
    rows, info = load_run(written[0])
    assert [r["pipeline"] for r in rows[:9]] == ["also-good"] * 9
    assert [r["subject"] for r in rows[:9]] == TRAIN + TEST
    assert info["fingerprint"] == "0123456789abcdef"


def test_report_command_on_missing_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "tasks.jsonl not found" in capsys.readouterr().err


def test_figures_module_never_uses_pyplot():
    source = Path(__file__).parent.parent.joinpath("benchmark", "figures.py").read_text()
    assert "pyplot" not in source.replace(
        "touches pyplot", ""
    ) and "moabb.analysis.plotting" not in source.replace("``moabb.analysis.plotting`` is not imported", "")


# ------------------------------------------------------------ headless browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_index_html_in_headless_chromium(written, tmp_path):
    page = (written[0] / "index.html").resolve()
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=2000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<table id="leaderboard">' in dom and ">good</td>" in dom
    assert dom.count("<img") == 5
    console = [
        line for line in done.stderr.splitlines()
        if "CONSOLE" in line or "Failed to load resource" in line or "Uncaught" in line
    ]  # fmt: skip
    assert not console, "console errors:\n" + "\n".join(console)


def test_html_escapes_names():
    from benchmark.html import leaderboard_html

    table = leaderboard_html([{"decoder": "<script>x</script>", "rank": "1"}], [False])
    assert "<script>" not in table and "&lt;script&gt;" in table


def test_write_reports_without_train_subjects(tmp_path):
    rows = [r for r in _rows(np.random.default_rng(2)) if r["split"] == "test"]
    board = write_reports(rows, tmp_path, RUN_INFO)
    assert board["imagine_accuracy"].isna().all()
    assert (tmp_path / "index.html").is_file()
    assert Path(tmp_path / "submissions" / "good.csv").is_file()
