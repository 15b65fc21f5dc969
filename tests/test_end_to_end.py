"""End to end: the CLI on a dataset the project did not generate."""

import json
import textwrap

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.config import DEFAULT_LOCALIZER_FOLDS, RunConfig
from benchmark.experiment import run_benchmark
from benchmark.registry import discover


@pytest.fixture(scope="module")
def run_all(foreign_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    code = main(
        ["run", "--all", "--data", str(foreign_root), "--out", str(out), "--no-progress", "--n-jobs", "2"]
    )
    return code, out


def test_run_all_writes_every_report(run_all):
    code, out = run_all
    assert code == 0
    for name in ("leaderboard.md", "leaderboard.csv", "results.csv", "runtime.md", "run.json", "tasks.jsonl"):
        assert (out / name).is_file(), name
    # decoders that need a simulation's ground truth (the oracle) are skipped on real-layout data
    names = [s.name for s in discover().specs.values() if "truth" not in s.uses]
    results = pd.read_csv(out / "results_all.csv")
    assert len(results) == 3 * len(names)
    assert (results["status"] == "ok").all(), results[["pipeline", "subject", "error"]]
    moabb_columns = [
        "score",
        "time",
        "samples",
        "subject",
        "session",
        "channels",
        "n_sessions",
        "dataset",
        "pipeline",
    ]
    assert set(moabb_columns) <= set(results.columns)
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["decoder"]) == sorted(names)
    assert board["imagine_accuracy"].is_monotonic_decreasing
    assert all(f"| {n}" in (out / "leaderboard.md").read_text() for n in names)


def test_train_scores_and_test_rows(run_all):
    _, out = run_all
    results = pd.read_csv(out / "results_all.csv")
    train = results[results["split"] == "train"]
    test = results[results["split"] == "test"]
    assert train["score"].between(0, 1).all() and train["balanced_accuracy"].between(0, 1).all()
    assert test["score"].isna().all()
    # the foreign data has strong, fully transferred class patterns: a real decoder finds them
    lda = train[train["pipeline"] == "lda-peak"]
    assert (lda["localizer_accuracy"] > 0.5).all()
    assert lda["score"].mean() > 0.3


def test_submission_rows_match_test_epochs(run_all):
    _, out = run_all
    sub = pd.read_csv(out / "submissions" / "lda-peak.csv")
    assert list(sub.columns) == ["ID", "label"]
    assert sub["ID"].tolist() == [f"sub-40_{i}" for i in range(1, 31)]
    assert (
        sub["label"]
        .isin(["apple", "bicycle", "brush", "cake", "clown", "cup", "desk", "foot", "mountain", "zebra"])
        .all()
    )


def test_run_json_records_provenance(run_all, foreign_root):
    _, out = run_all
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["seed"] == 0
    assert info["versions"]["mne"] and info["versions"]["scikit-learn"]
    assert len(info["fingerprint"]) == 16
    assert info["subjects"] == ["sub-02", "sub-03", "sub-40"]


def test_unknown_decoder_exit_code(foreign_root, tmp_path, capsys):
    code = main(["run", "--decoder", "nope", "--data", str(foreign_root), "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Unknown decoder 'nope'. Valid names: " in err
    assert all(name in err for name in discover().names)


def test_missing_data_path_exit_code(tmp_path, capsys):
    code = main(["run", "--all", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_failing_decoder_recorded_and_others_kept(foreign_root, tmp_path, monkeypatch):
    pkg = tmp_path / "flaky_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "boom.py").write_text(
        textwrap.dedent("""
        from benchmark.contract import DecoderSpec

        class Boom:
            def fit(self, X, y):
                raise RuntimeError("exploded on purpose")

        DECODER = DecoderSpec(name="boom", family="baseline", description="Raises.", factory=lambda c: Boom())
    """)
    )
    (pkg / "ok.py").write_text("from decoders.chance import DECODER\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = RunConfig(
        data=foreign_root, out=tmp_path / "out", subjects=("sub-02",), progress=False, localizer_folds=0
    )
    summary = run_benchmark(config, package="flaky_decoders")
    assert [(r["decoder"], r["status"]) for r in summary.rows] == [("boom", "error"), ("chance", "ok")]
    assert "exploded on purpose" in summary.failures[0]["error"]
    lines = (tmp_path / "out" / "tasks.jsonl").read_text().splitlines()
    assert len(lines) == 2
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    assert board.set_index("decoder").loc["boom", "status"] == "error 1"


def test_one_task_memo_reaches_every_fit_of_a_task(foreign_root, tmp_path):
    """The localizer-CV folds and the final fit of one task share one memo; another task gets its own."""
    import numpy as np

    from benchmark.contract import DecoderSpec, TaskMemo
    from benchmark.runner import _run_task_body
    from datasets.adapter import ChallengeDataset
    from decoders.chance import ChanceDecoder

    seen: list[TaskMemo] = []

    class Recorder(ChanceDecoder):
        def fit(self, X, y, memo=None):
            seen.append(memo)
            memo.get("work", lambda: np.arange(3))
            return super().fit(X, y)

    spec = DecoderSpec(
        name="recorder", family="baseline", description="Records its memo.",
        factory=lambda context: Recorder(random_state=context.random_state), uses=frozenset({"memo"}),
    )  # fmt: skip
    dataset = ChallengeDataset(foreign_root)
    config = RunConfig(data=foreign_root, out=tmp_path, localizer_folds=3, progress=False)
    for subject in dataset.subjects[:2]:
        _run_task_body(dataset, spec, subject, config)
    first, second = seen[:4], seen[4:]
    assert len(seen) == 8 and all(isinstance(m, TaskMemo) for m in seen)
    assert all(m is first[0] for m in first) and all(m is second[0] for m in second)
    assert first[0] is not second[0]
    assert (first[0].misses, first[0].hits) == (1, 3)


def test_localizer_cv_only_for_ranked_decoders(foreign_root, tmp_path):
    """An unranked decoder (an oracle) is fitted once per task: its localizer accuracy would mean nothing."""
    import dataclasses

    from benchmark.contract import DecoderSpec
    from benchmark.runner import _run_task_body
    from datasets.adapter import ChallengeDataset
    from decoders.chance import ChanceDecoder

    fits: list[int] = []

    class Counter(ChanceDecoder):
        def fit(self, X, y):
            fits.append(len(X))
            return super().fit(X, y)

    ranked = DecoderSpec(
        name="counter", family="baseline", description="Counts its fits.",
        factory=lambda context: Counter(random_state=context.random_state),
    )  # fmt: skip
    dataset = ChallengeDataset(foreign_root)
    subject = dataset.subjects[0]
    config = RunConfig(data=foreign_root, out=tmp_path, localizer_folds=3, progress=False)
    out = _run_task_body(dataset, ranked, subject, config)
    n = out["n_localizer"]
    assert len(fits) == 4 and sum(fits[:3]) == 2 * n and fits[3] == n
    assert 0.0 <= out["localizer_accuracy"] <= 1.0
    fits.clear()
    out = _run_task_body(dataset, dataclasses.replace(ranked, ranked=False), subject, config)
    assert fits == [n]
    assert out["localizer_accuracy"] != out["localizer_accuracy"]  # NaN


def test_leaderboard_legend_names_the_runs_folds():
    from benchmark.tables import leaderboard_legend

    legend = leaderboard_legend({"config": {"localizer_folds": 3}})
    assert "stratified 3-fold CV, ranked decoders only" in legend
    assert "stratified 5-fold CV" in leaderboard_legend({"config": {"localizer_folds": 5}})
    assert "not cross-validated" in leaderboard_legend({"config": {"localizer_folds": 0}})
    assert f"{DEFAULT_LOCALIZER_FOLDS}-fold" in leaderboard_legend({})  # a run.json without it: the default
