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
from benchmark.journal import load_run
from benchmark.report import write_reports

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
        ("oracle", "oracle", 8.0, False),
    ):
        for subject in TRAIN + TEST:
            split = "train" if subject in TRAIN else "test"
            row = {
                "decoder": name, "family": family, "ranked": name != "oracle", "subject": subject,
                "split": split,
                "status": "ok", "error": "", "n_localizer": 80, "n_imagine": 20, "channels": 24,
                "localizer_accuracy": 0.1 + 0.1 * strength, "fit_time": 0.5 + strength, "predict_time": 0.01,
                "time": 0.5, "wall_time": 1.0, "peak_memory_mb": 12.0, "key": f"{name}-{subject}",
                "trial_idx": list(range(1, 21)),
            }  # fmt: skip
            if name == "broken" and subject == TRAIN[0]:
                label = {k: row[k] for k in ("decoder", "family", "ranked", "subject", "split")}
                rows.append(label | {"status": "timeout", "error": "killed after 1 s", "wall_time": 1.0})
                continue
            y = rng.permutation(np.repeat(np.arange(10), 2))
            logits = rng.normal(size=(20, 10))
            logits[np.arange(20), y] += strength
            proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            row["proba"] = np.round(proba, 6).tolist()
            if split == "train":
                hits = proba.argmax(1) == y
                accuracy = hits.mean()
                top3 = min(1.0, accuracy + 0.2)
                row.update(imagine_accuracy=accuracy, balanced_accuracy=accuracy, top3=top3)
                row["y_true"] = y.tolist()
                if curve:
                    bump = strength * np.exp(-0.5 * ((TIMES - 0.4) / 0.1) ** 2)
                    row["evidence_curve"] = np.round(bump + rng.normal(0, 0.3, TIMES.size), 6).tolist()
                    row["evidence_times"] = TIMES.tolist()
            else:
                row.update(imagine_accuracy=np.nan, balanced_accuracy=np.nan, top3=np.nan)
            rows.append(row)
    return rows


RUN_INFO = {
    "dataset": "fake", "dataset_root": "/nowhere", "fingerprint": "0123456789abcdef",
    "config": {"seed": 0, "localizer_folds": 5},
    "decoders": ["also-good", "broken", "chance", "good", "oracle"],
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
    assert csv.loc[csv["rank"] != "-", "imagine_accuracy"].is_monotonic_decreasing
    good = csv.set_index("decoder").loc["good"]
    assert good["ci_low"] <= good["imagine_accuracy"] <= good["ci_high"]
    assert good["n_significant"] >= 6 and good["p_signflip"] == pytest.approx(1 / 256)
    tied = csv.set_index("decoder")["tied_with_best"]
    assert tied["good"] and tied["also-good"] and not tied["chance"]
    assert csv.set_index("decoder").loc["broken", "status"] == "ok 8, timeout 1"
    assert csv.set_index("decoder").loc["oracle", "rank"] == "-"
    md = (out / "leaderboard.md").read_text()
    assert "| 1 =" in md and "bootstrap" in md and "subjects p<=.05" in md
    assert md.startswith("# Leaderboard: simulated data") and "**Simulated data**" in md
    assert "Dataset `imagine-simulated`" in md and "8 train subjects" in md
    assert "**Note.**" not in md  # 8 subjects and 4 ranked decoders: every test can reach .05


def test_results_csv_is_moabb_ready_and_results_all_keeps_everything(written):
    out, _ = written
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[:11]) == ["score", "time", "samples", "subject", "session", "channels",
                                         "n_sessions", "dataset", "pipeline", "samples_test",
                                         "n_classes"]  # fmt: skip
    assert np.isfinite(results["score"]).all()
    assert (results["split"] == "train").all() and results["ranked"].all()
    assert set(results["dataset"]) == {"imagine-simulated"}
    assert (results["n_classes"] == 10).all() and (results["samples_test"] == 20).all()
    assert len(results) == 4 * 8 - 1  # ranked decoders x train subjects, minus the timed-out task
    assert results["p_binomial"].between(0, 1).all() and results["p_permutation"].between(0, 1).all()
    assert not {"proba", "y_true", "evidence_curve"} & set(results.columns)
    everything = pd.read_csv(out / "results_all.csv")
    assert len(everything) == 5 * 9 and list(everything.columns[:11]) == list(results.columns[:11])
    assert set(everything.loc[~everything["ranked"], "pipeline"]) == {"oracle"}
    assert everything.loc[everything["split"] == "test", "score"].isna().all()
    pairwise = pd.read_csv(out / "pairwise.csv")
    assert len(pairwise) == 4 * 3 and pairwise["p_holm_two_sided"].between(0, 1).all()


def test_few_subjects_say_the_tests_cannot_decide(tmp_path):
    # 4 subjects, 4 ranked decoders: the best one-sided sign-flip p is 1/16, Holm x3 = 0.1875 > .05
    rows = [r for r in _rows(np.random.default_rng(1)) if r["subject"] in TRAIN[:4]]
    board = write_reports(rows, tmp_path, RUN_INFO)
    assert board["tied_with_best"].isna().all()
    md = (tmp_path / "leaderboard.md").read_text()
    assert " =" not in md.split("| rank")[1], "no '=' when the tie test cannot reach significance"
    assert "With 4 subjects, no decoder can be found significantly below the best" in md
    assert "0.188 > 0.05 (it needs at least 6 subjects)" in md
    assert "the exact sign-flip test against chance cannot reach" in md
    page = (tmp_path / "index.html").read_text()
    assert "no decoder can be found significantly below the best" in page
    assert 'class="tied"' not in page


def test_figures_written_and_embedded(written):
    out, _ = written
    names = {p.stem for p in (out / "figures").glob("*.png")}
    assert names == {"subject_scores", "paired", "effect_sizes", "time_courses", "confusion",
                     "confusion_unranked", "pairwise", "runtime"}  # fmt: skip
    page = (out / "index.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 7, "every figure but the pairwise matrix, which is a table on the page"
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'id="leaderboard"' in page and '<td class="text">good</td>' in page
    assert "0123456789abcdef" in page and "&quot;seed&quot;: 0" in page
    assert not re.search(r"src=\"(?!data:)", page), "images must be embedded"
    links = re.findall(r'href="([^"]*)"', page)
    assert not [u for u in links if "//" in u or ":" in u.replace("data:,", "")], "no external link"
    for name in ("leaderboard.csv", "results.csv", "results_all.csv", "pairwise.csv", "run.json"):
        assert name in links and (out / name).is_file(), name
    for anchor in ("#leaderboard-section", "#subject_scores", "#pairwise", "#files", "#run"):
        assert anchor in links, anchor
    assert "<title>imagine-bench leaderboard: simulated data</title>" in page and "Simulated data." in page
    assert re.search(r'<details class="run"><summary>[^<]+</summary>\s*<pre>', page), "configuration folded"
    assert "`" not in re.sub(r"<(script|pre)>.*?</\1>", "", page, flags=re.S), "literal backticks"


def test_unranked_oracle_is_not_submitted(written):
    out, _ = written
    assert not (out / "submissions" / "oracle.csv").exists()
    assert (out / "submissions" / "good.csv").is_file()
    readme = (out / "submissions" / "README.md").read_text()
    assert "SIMULATED test subjects" in readme


def test_run_json_paths_are_portable(tmp_path):
    from benchmark.runinfo import portable_paths

    home, cache = Path("/home/alice"), Path("/home/alice/.cache/imagine-bench")
    info = {"dataset_root": "/home/alice/.cache/imagine-bench/simulated-x/data",
            "config": {"data_cache": "/home/alice/.cache/imagine-bench/arrays", "out": "reports",
                       "data": "/home/alice/meg/data", "other": "/home/alicex/y"}}  # fmt: skip
    fixed = portable_paths(info, home=home, cache=cache)
    assert fixed["dataset_root"] == "$IMAGINE_BENCH_HOME/simulated-x/data"
    assert fixed["config"] == {"data_cache": "$IMAGINE_BENCH_HOME/arrays", "out": "reports",
                               "data": "~/meg/data", "other": "/home/alicex/y"}  # fmt: skip
    rows = _rows(np.random.default_rng(3))
    write_reports(rows, tmp_path, {**RUN_INFO, "dataset_root": str(Path.home() / "somewhere" / "data")})
    text = (tmp_path / "run.json").read_text() + (tmp_path / "index.html").read_text()
    assert str(Path.home()) + "/" not in text and "~/somewhere/data" in text


def test_history_appended_once_per_run_and_plotted(tmp_path):
    from benchmark.history import append_history, load_history

    rows = _rows(np.random.default_rng(4))
    board = write_reports(rows, tmp_path, RUN_INFO, record_history=True)
    write_reports(rows, tmp_path, RUN_INFO, record_history=True)  # the same run again: no duplicate
    later = {**RUN_INFO, "started_utc": "2025-01-02T00:00:00+00:00"}
    append_history(tmp_path, board, later)
    history = load_history(tmp_path)
    assert len(history) == 2 * 5 and history["run_utc"].nunique() == 2
    assert set(history.loc[~history["ranked"], "decoder"]) == {"oracle"}
    write_reports(rows, tmp_path, later)
    assert (tmp_path / "figures" / "history.png").is_file()
    assert 'id="history"' in (tmp_path / "index.html").read_text()


def test_malformed_history_is_named(tmp_path):
    from benchmark.errors import ReportInputError
    from benchmark.history import load_history

    (tmp_path / "history.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ReportInputError, match=r"history\.csv lacks the column"):
        load_history(tmp_path)


def test_time_course_cluster_listed(written):
    page = (written[0] / "index.html").read_text()
    assert re.search(r"<b>good</b> \(8 subjects\): 0\.\d\d-0\.\d\d s \(p = ", page), (
        "no significant cluster listed"
    )


def test_report_command_rebuilds_identical_files(written, tmp_path, capsys):
    out, _ = written
    rebuilt = tmp_path / "rebuilt"
    assert main(["report", str(out), "--out", str(rebuilt)]) == 0
    for name in ("leaderboard.csv", "leaderboard.md", "results.csv", "results_all.csv", "pairwise.csv",
                 "runtime.md", "run.json"):  # fmt: skip
        assert (rebuilt / name).read_text() == (out / name).read_text(), name
    # `report` draws the figures in one process per core, the fixture in one: same bytes
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures and figures == sorted(p.name for p in (rebuilt / "figures").glob("*.png"))
    for name in figures:
        assert (rebuilt / "figures" / name).read_bytes() == (out / "figures" / name).read_bytes(), name
    assert (rebuilt / "index.html").is_file() and (rebuilt / "tasks.jsonl").is_file()
    assert "# Leaderboard" in capsys.readouterr().out


def test_load_run_restores_task_order(written):
    rows, info = load_run(written[0])
    assert [r["decoder"] for r in rows[:9]] == ["also-good"] * 9
    assert [r["subject"] for r in rows[:9]] == TRAIN + TEST
    assert info["fingerprint"] == "0123456789abcdef"


def test_report_command_on_missing_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "tasks.jsonl not found" in capsys.readouterr().err


def test_figures_package_never_uses_pyplot():
    files = sorted(Path(__file__).parent.parent.joinpath("benchmark", "figures").glob("*.py"))
    assert len(files) > 3
    for path in files:
        source = path.read_text()
        assert "pyplot" not in source.replace("touches pyplot", ""), path
        assert "moabb.analysis.plotting" not in source.replace(
            "``moabb.analysis.plotting`` is not imported", ""
        ), path


# ------------------------------------------------------------ headless browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


# Runs in the page after its own script: measures the layout, sorts by "decoder", reports as JSON.
_PROBE = """<script>
(function () {
  var table = document.getElementById("leaderboard");
  var heads = Array.from(table.querySelectorAll("th"));
  var col = heads.findIndex(function (h) { return h.textContent === "decoder"; });
  heads[col].click();
  var out = {
    viewport: document.documentElement.clientWidth,
    page: document.documentElement.scrollWidth,
    table: table.getBoundingClientRect().width,
    sections: Array.from(document.querySelectorAll("section")).map(function (s) { return s.id; }),
    toc: Array.from(document.querySelectorAll("nav.toc a")).map(function (a) {
      return a.getAttribute("href"); }),
    images: Array.from(document.images).map(function (i) { return i.naturalWidth; }),
    // a section renders: it has height and holds a decoded image, a table or text
    empty: Array.from(document.querySelectorAll("section")).filter(function (s) {
      var r = s.getBoundingClientRect(), imgs = Array.from(s.querySelectorAll("img"));
      return r.height < 20 || imgs.some(function (i) { return !(i.naturalWidth > 0); }) ||
        (!imgs.length && !s.querySelector("table, ul, pre, p"));
    }).map(function (s) { return s.id; }),
    // text wider than its box: the element's content overflows, or it sticks out of its section
    overflow: Array.from(document.querySelectorAll(
        "h1, h2, h3, p, li, th, td, figcaption, summary, nav a, header")).filter(function (e) {
      var style = getComputedStyle(e);
      if (style.display === "none" || e.closest("details:not([open])")) { return false; }
      var box = e.getBoundingClientRect(), section = e.closest("section, header, nav, body");
      var outer = section.getBoundingClientRect(), scroller = e.closest(".heat-wrap, .table-wrap");
      var limit = scroller ? scroller.getBoundingClientRect() : outer;
      return e.scrollWidth > e.clientWidth + 1 || box.right > limit.right + 1 || box.left < limit.left - 1;
    }).map(function (e) { return e.tagName + ": " + e.textContent.slice(0, 40); }),
    scrolled: Array.from(document.querySelectorAll(".heat-wrap, .table-wrap")).filter(function (w) {
      return w.scrollWidth > w.clientWidth + 1; }).map(function (w) { return w.firstElementChild.id; }),
    sorted: Array.from(table.tBodies[0].rows).map(function (r) { return r.cells[col].textContent; }),
    text: document.body.innerText
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script></body>"""


def _chromium_run(page: Path, profile: Path, width: int, *extra: str) -> subprocess.CompletedProcess:
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
        f"--window-size={width},1400", "--virtual-time-budget=3000", *extra, page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)")
@pytest.mark.parametrize("width", [800, 1400])
def test_index_html_in_headless_chromium(written_full, tmp_path, width):
    import html as html_lib
    import struct

    written = (written_full,)
    source = (written[0] / "index.html").read_text()
    page = written[0] / f"probe-{width}.html"  # beside index.html, so the relative links resolve
    page.write_text(source.replace("</body>", _PROBE))
    done = _chromium_run(page, tmp_path / "profile", width, "--dump-dom")
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert match, "the page's script did not run"
    probe = json.loads(html_lib.unescape(match.group(1)))
    assert probe["viewport"] == width
    assert probe["table"] <= probe["viewport"], f"leaderboard {probe['table']} px wide in a {width} px window"
    assert probe["page"] <= probe["viewport"], "the page scrolls sideways"
    expected = {"leaderboard-section", "subject_scores", "paired", "effect_sizes", "time_courses",
                "confusion", "confusion_unranked", "pairwise", "robustness", "runtime", "history", "files",
                "run"}  # fmt: skip
    assert expected == set(probe["sections"])
    assert {h.lstrip("#") for h in probe["toc"]} == set(probe["sections"])
    assert len(probe["images"]) == 8 and min(probe["images"]) > 100, "an image did not decode"
    assert probe["empty"] == [], f"sections that did not render at {width} px: {probe['empty']}"
    assert probe["overflow"] == [], f"text overflowing its box at {width} px: {probe['overflow']}"
    assert probe["scrolled"] == [], f"tables wider than the page at {width} px: {probe['scrolled']}"
    if width == 800:  # the probe sees an overflow when there is one
        broken = written[0] / "probe-broken.html"
        long_word = "x" * 300
        broken.write_text(
            page.read_text().replace('<section id="files">', f'<section id="files"><p>{long_word}</p>')
        )
        seen = json.loads(html_lib.unescape(re.search(r'<pre id="probe">(.*?)</pre>', _chromium_run(
            broken, tmp_path / "profile", width, "--dump-dom").stdout, flags=re.S).group(1)))  # fmt: skip
        assert seen["overflow"] == ["P: " + long_word[:40]]
    assert probe["sorted"] == sorted(probe["sorted"]), "clicking 'decoder' did not sort the table"
    assert "`" not in probe["text"], "literal backticks on the rendered page"
    assert "Simulated data." in probe["text"]
    console = [
        line for line in done.stderr.splitlines()
        if "CONSOLE" in line or "Failed to load resource" in line or "Uncaught" in line
    ]  # fmt: skip
    assert not console, "console errors:\n" + "\n".join(console)
    shot = tmp_path / f"index-{width}.png"
    _chromium_run(written[0] / "index.html", tmp_path / "profile", width, f"--screenshot={shot}")
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", header[16:20])[0] == width


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


def test_report_append_history_command(written, tmp_path, capsys):
    out, _ = written
    rebuilt = tmp_path / "rebuilt"
    for _ in range(2):  # the same run twice: recorded once
        assert main(["report", str(out), "--out", str(rebuilt), "--append-history"]) == 0
    history = pd.read_csv(rebuilt / "history.csv")
    assert len(history) == 5 and set(history["run_utc"]) == {RUN_INFO["started_utc"]}
    assert set(history["dataset"]) == {"imagine-simulated"}
    assert (rebuilt / "figures" / "history.png").is_file()
    assert not (out / "history.csv").exists(), "the source folder is left alone"


def _square(value: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1], [0, value])
    return fig


def _boom():
    raise ValueError("no data for this figure")


def test_pairwise_table_says_which_pairs_are_significant(written):
    page = (written[0] / "index.html").read_text()
    section = page.split('<section id="pairwise">')[1].split("</section>")[0]
    assert '<table id="pairwise-table" class="heat">' in section
    # 8 subjects, 4 ranked decoders (6 pairs): good and also-good beat chance and broken on every subject
    verdict = re.search(r"<b>(\d+) of 6 pairs differ significantly</b>", section)
    assert verdict and int(verdict.group(1)) >= 1
    assert re.search(r"<li><b>(also-)?good</b> scores higher than <b>(chance|broken)</b>: \+\d+\.\d points, "
                     r"p = 0\.0\d+</li>", section)  # fmt: skip
    assert re.search(r'<td class="sig" style="background:#[0-9a-f]{6};color:(black|white)" title="[^"]+">'
                     r"\+\d+\*</td>", section)  # fmt: skip


def test_few_subjects_pairwise_says_no_pair_can_be_significant(tmp_path):
    rows = [r for r in _rows(np.random.default_rng(1)) if r["subject"] in TRAIN[:4]]
    write_reports(rows, tmp_path, RUN_INFO)
    section = (tmp_path / "index.html").read_text().split('<section id="pairwise">')[1]
    assert "<b>No pair can be significant here:</b> with 4 subjects and 6 pairs" in section


def _robustness_csv(folder: Path) -> Path:
    """A small robustness matrix as `python -m benchmark robustness` writes it."""
    records = []
    for regime in ("default", "brief-full-rank"):
        for alpha, ceiling in ((0.0, 0.12), (0.5, 0.35), (1.0, 0.6)):
            for decoder, eligible, share in (
                ("good", True, 0.6),
                ("chance", True, 0.0),
                ("oracle-transfer", False, 1.0),
                ("oracle-timing", False, 0.8),
            ):
                accuracy = 0.1 + share * (ceiling - 0.1)
                fraction = (accuracy - 0.1) / (ceiling - 0.1) if ceiling > 0.15 else np.nan
                records.append({"regime": regime, "alpha": alpha, "decoder": decoder, "eligible": eligible,
                                "n_subjects": 4, "n_failed": 0, "n_trials": 120,
                                "hits": round(120 * accuracy), "accuracy": accuracy, "subject_mean": accuracy,
                                "ceiling": ceiling, "margin_fraction": fraction,
                                "p_binomial": 0.5})  # fmt: skip
    path = folder / "robustness.csv"
    pd.DataFrame(records).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def written_full(tmp_path_factory):
    """A report folder with everything the page can show: a robustness run and a history of runs."""
    from benchmark.publish import publish_reports

    out = tmp_path_factory.mktemp("full")
    rows = _rows(np.random.default_rng(0))
    _robustness_csv(out)
    publish_reports(rows, out, {**RUN_INFO, "started_utc": "2025-01-01T00:00:00+00:00"}, record_history=True)
    publish_reports(rows, out, {**RUN_INFO, "started_utc": "2025-01-02T00:00:00+00:00"}, record_history=True)
    return out


def test_robustness_section_shows_the_ceiling_and_the_margin(written_full):
    page = (written_full / "index.html").read_text()
    assert (written_full / "robustness.csv").is_file(), "publishing the reports keeps the robustness run"
    section = page.split('<section id="robustness">')[1].split("</section>")[0]
    accuracy = section.split('id="robustness-accuracy"')[1].split("</table>")[0]
    rows = re.findall(r'<th class="row">(.*?)</th>', accuracy)
    assert rows[0] == "transfer ceiling (oracle-<wbr>transfer)", rows
    assert rows[1:] == ["good", "chance", "oracle-<wbr>timing"], "ranked by margin, diagnostics last"
    ceiling_row = re.search(r'<tr class="ceiling">(.*?)</tr>', accuracy).group(1)
    assert re.findall(r">(\d+)</td>", ceiling_row) == ["12", "35", "60"] * 2
    assert '<th class="group" colspan="3">brief-<wbr>full-<wbr>rank</th>' in accuracy
    margin = section.split('id="robustness-margin"')[1].split("</table>")[0]
    good = re.search(r'<th class="row">good</th>(.*?)</tr>', margin).group(1)
    assert re.findall(r">([-.\d]*)</td>", good) == ["", ".60", ".60"] * 2  # empty: ceiling at chance
    assert 'href="#robustness"' in page and 'href="robustness.csv"' in page


def test_robustness_without_a_column_is_left_out_with_a_warning(tmp_path, caplog):
    from benchmark.history import load_robustness

    pd.DataFrame({"regime": ["default"], "alpha": [0.0]}).to_csv(tmp_path / "robustness.csv", index=False)
    assert load_robustness(tmp_path) is None
    assert "robustness.csv lacks the column(s)" in caplog.text
    assert load_robustness(tmp_path / "nowhere") is None


def test_history_trend_on_the_page(written_full):
    page = (written_full / "index.html").read_text()
    assert '<section id="history">' in page and (written_full / "figures" / "history.png").is_file()
    assert pd.read_csv(written_full / "history.csv")["run_utc"].nunique() == 2


def test_robustness_heatmap_spans_the_data_and_names_regimes_once(tmp_path):
    import warnings

    from benchmark.history import load_robustness
    from benchmark.robustness_report import robustness_figure

    table = load_robustness(_robustness_csv(tmp_path).parent)  # the file's eligible read as ranked
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on a colour-bar tick outside the scale
        fig = robustness_figure(table)
        fig.canvas.draw()
    accuracy_ax = fig.axes[0]
    norm = accuracy_ax.images[0].norm
    assert norm.vcenter == pytest.approx(10.0), "chance sits at the white centre"
    assert norm.vmax == pytest.approx(60.0) and norm.vmin < 10.0, "the scale spans the data, not 0-100 %"
    assert [t.get_text() for t in accuracy_ax.get_xticklabels()] == ["0", "0.5", "1"] * 2
    top = next(c for c in accuracy_ax.child_axes)
    assert [t.get_text() for t in top.get_xticklabels()] == ["default", "brief-full-rank"]
    rows = [t.get_text() for t in accuracy_ax.get_yticklabels()]
    assert rows[0] == "ceiling (oracle-transfer)" and "oracle-transfer" not in rows[1:]


def test_every_decoder_has_its_own_colour():
    from matplotlib.colors import to_rgb

    from benchmark.figures import PALETTE, decoder_colors

    for n in (5, 19, len(PALETTE), 30):
        names = [f"decoder-{i}" for i in range(n)]
        colors = decoder_colors(names)
        assert len(set(colors.values())) == n, n
        rgb = np.array([to_rgb(c) for c in colors.values()])
        closest = min(np.abs(rgb[i] - rgb[j]).sum() for i in range(n) for j in range(i))
        assert closest > 0.1, f"two of {n} colours are nearly the same"
    assert decoder_colors(["b", "a"]) == decoder_colors(["a", "b", "a"]), "a decoder keeps its colour"


def test_confusion_scale_is_centred_on_chance():
    from benchmark.figures import confusion_matrices

    counts = np.full((10, 10), 2) + 18 * np.eye(10, dtype=int)  # 20 of 38 trials (53 %) on the diagonal
    fig = confusion_matrices({"x": counts}, tuple("abcdefghij"))
    image = fig.axes[0].images[0]
    norm = image.norm
    assert norm(10.0) == pytest.approx(0.5), "chance must sit at the middle (white) of the scale"
    assert norm(0.0) == pytest.approx(0.0) and norm(100 * 20 / 38) == pytest.approx(1.0)
    assert image.get_cmap().name.startswith("RdBu")


def test_history_legend_tells_the_chance_decoder_from_the_chance_line():
    from benchmark.figures import history

    frame = pd.DataFrame({"run_utc": ["2025-01-01T00:00:00+00:00"] * 2, "decoder": ["chance", "good"],
                          "ranked": [True, True], "imagine_accuracy": [0.1, 0.2]})  # fmt: skip
    labels = [t.get_text() for t in history(frame).axes[0].get_legend().get_texts()]
    assert labels.count("chance") == 1 and "chance level (10 %)" in labels


def test_draw_pngs_in_processes_equals_drawing_here():
    from benchmark.figures import draw_pngs

    draws = {f"f{k}": (lambda k=k: _square(k)) for k in range(5)} | {"empty": lambda: None}
    here = draw_pngs(draws, n_jobs=1)
    assert list(here) == list(draws) and here["empty"] is None
    assert len({here[f"f{k}"] for k in range(5)}) == 5  # five different pictures
    assert draw_pngs(draws, n_jobs=2) == here == draw_pngs(draws, n_jobs=-1)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_draw_pngs_names_the_figure_that_fails(n_jobs):
    from benchmark.figures import draw_pngs

    draws = {"fine": lambda: _square(1.0), "histogram": _boom, "later": lambda: _square(2.0)}
    error = RuntimeError if n_jobs > 1 else ValueError
    with pytest.raises(error, match="histogram|no data for this figure") as info:
        draw_pngs(draws, n_jobs=n_jobs)
    assert "no data for this figure" in str(info.value)


def test_draw_pngs_reports_a_drawing_process_that_dies():
    import os

    from benchmark.figures import draw_pngs

    draws = {"fine": lambda: _square(1.0), "killer": lambda: os._exit(3)}
    with pytest.raises(RuntimeError, match="died \\(exit code 3\\)"):
        draw_pngs(draws, n_jobs=2)


def test_draw_pngs_draws_in_place_inside_a_daemonic_process():
    import multiprocessing as mp

    from benchmark.figures import draw_pngs

    def child(send):
        draws = {"a": lambda: _square(1.0), "b": lambda: _square(2.0)}
        send.send(draw_pngs(draws, n_jobs=2) == draw_pngs(draws, n_jobs=1))

    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=child, args=(send,), daemon=True)  # may not start children of its own
    process.start()
    send.close()  # the child's end only: a child that fails closes it, and recv raises EOFError
    assert receive.poll(60) and receive.recv() is True
    process.join()
    assert process.exitcode == 0
