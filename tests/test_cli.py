"""Command-line conventions: program name, --version, option placement, help, errors, run --config."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmark import __version__
from benchmark.cli import main
from benchmark.config import DEFAULT_LOCALIZER_FOLDS, read_config_file
from benchmark.errors import ConfigError
from benchmark.parser import build_parser as _build_parser
from benchmark.parser import run_options as _run_options

ROOT = Path(__file__).resolve().parent.parent


def test_program_name_follows_how_it_was_started(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/imagine-bench", "--help"])
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: imagine-bench ")
    monkeypatch.setattr(sys, "argv", ["/repo/benchmark/__main__.py"])
    assert _build_parser().prog == "python -m benchmark"


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip().endswith(f" {__version__}")


@pytest.mark.parametrize("argv", [["-v", "run", "--all"], ["run", "--all", "-v"], ["run", "-v", "--all"]])
def test_verbose_accepted_before_and_after_the_subcommand(argv):
    assert _build_parser().parse_args(argv).verbose == 1


def test_list_accepts_verbose_after_the_subcommand(capsys):
    assert main(["list", "-vv"]) == 0
    assert "lda-peak" in capsys.readouterr().out


def test_run_help_shows_defaults():
    run = next(a for a in _build_parser()._actions if a.dest == "command").choices["run"]
    text = run.format_help()
    for expected in (
        "(default: 0)",
        "(default: 1800.0)",
        f"(default: {DEFAULT_LOCALIZER_FOLDS})",
        "(default: -1)",
        "(default: local)",
    ):
        assert expected in text, expected
    assert text.count("default") < 20, "defaults repeated"


def test_run_defaults_are_the_parsers_and_the_configs():
    from benchmark.config import DEFAULT_LOCALIZER_FOLDS, RunConfig
    from benchmark.parser import run_defaults

    defaults = run_defaults()
    folds = RunConfig(Path("d"), Path("o")).localizer_folds
    assert defaults["localizer_folds"] == DEFAULT_LOCALIZER_FOLDS == folds
    assert defaults["progress"] is True and defaults["data_cache"] is True  # --no-progress etc. unset
    assert defaults["decoders"] is None and defaults["max_memory_mb"] is None  # renamed destinations
    assert not {"decoder", "max_memory", "no_progress", "no_data_cache", "command", "config"} & set(defaults)
    # every option of run that RunConfig knows has the parser's default there too, unless the CLI differs
    # on purpose (n_jobs -1 and the array cache are the CLI's defaults, RunConfig's are 1 and None)
    config = RunConfig(Path("d"), Path("o")).to_dict()
    differ = {k for k in config if k in defaults and config[k] != defaults[k]}
    assert differ <= {"data", "out", "n_jobs", "data_cache", "progress"}, differ


def test_unknown_decoder_and_subject_suggest_a_name(foreign_root, tmp_path, capsys):
    base = ["run", "--data", str(foreign_root), "--out", str(tmp_path), "--no-progress"]
    assert main([*base, "--decoder", "lda-pek"]) == 2
    assert "Unknown decoder 'lda-pek'. Did you mean 'lda-peak'?" in capsys.readouterr().err
    assert main([*base, "--decoder", "chance", "--subjects", "sub-2"]) == 2
    assert "Unknown subject 'sub-2'" in (err := capsys.readouterr().err) and "Did you mean 'sub-02'?" in err
    assert not (tmp_path / "leaderboard.csv").exists()


def test_run_without_decoders_is_bad_input(capsys):
    assert main(["run"]) == 2
    assert "--all, --decoder NAME ... or --config FILE" in capsys.readouterr().err


# --------------------------------------------------------- malformed inputs
def _stored_run(folder: Path, rows: list, info: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tasks.jsonl").write_text(
        "".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows)
    )
    (folder / "run.json").write_text(json.dumps(info if info is not None else {"config": {"seed": 0}}))
    return folder


@pytest.mark.parametrize(
    "rows, message",
    [
        (['{"pipeline": "a", "subject": "sub-02"\n'], "tasks.jsonl, line 1: not a JSON object"),
        ([{"subject": "sub-02", "split": "train", "status": "ok"}], "lacks ['decoder']"),
        (["[1, 2]\n"], "line 1: expected a JSON object"),
        (
            [{"decoder": "a", "subject": "s", "split": "train", "status": "ok", "imagine_accuracy": "high"}],
            "malformed",
        ),
    ],
    ids=["bad-json", "no-decoder", "not-an-object", "text-score"],
)
def test_report_malformed_tasks_exit_2_naming_the_file(tmp_path, capsys, rows, message):
    folder = _stored_run(tmp_path / "run", rows)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(folder) in err and "Traceback" not in err


def test_report_malformed_run_json(tmp_path, capsys):
    folder = _stored_run(tmp_path / "run", [])
    (folder / "run.json").write_text("{not json")
    assert main(["report", str(folder)]) == 2
    assert "run.json is not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize(
    "csv, message",
    [
        ("decoder,imagine_accuracy\nlda,0.1\n", "lacks the column(s) ['status']"),
        ('decoder,status\n"lda,ok\n', "is not a readable CSV"),
        ("decoder,status,imagine_accuracy\nlda,ok,high\n", "hold text where numbers are expected"),
    ],
    ids=["missing-column", "unclosed-quote", "text-score"],
)
def test_compare_malformed_leaderboard_exit_2_naming_the_file(tmp_path, capsys, csv, message):
    good = tmp_path / "old"
    good.mkdir()
    (good / "leaderboard.csv").write_text("decoder,status,imagine_accuracy\nlda,ok 1,0.1\n")
    (good / "run.json").write_text("{}")
    bad = tmp_path / "new"
    bad.mkdir()
    (bad / "leaderboard.csv").write_text(csv)
    (bad / "run.json").write_text("{}")
    assert main(["compare", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(bad / "leaderboard.csv") in err


# ---------------------------------------------------------- run --config
def test_config_file_toml_yaml_and_aliases(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('decoder = ["chance"]\nn-jobs = 2\nno_progress = true\nseed = 3\ndata = "~/meg"\n')
    assert read_config_file(toml) == {"decoders": ("chance",), "n_jobs": 2, "progress": False, "seed": 3,
                                      "data": Path.home() / "meg"}  # fmt: skip
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("all: true\nlocalizer_folds: 0\nmax-memory: 500\n")
    pytest.importorskip("yaml")
    assert read_config_file(yaml_file) == {"all": True, "localizer_folds": 0, "max_memory_mb": 500}


@pytest.mark.parametrize(
    "text, message",
    [
        ("sede = 1\n", "unknown option 'sede'. Did you mean 'seed'?"),
        ("seed = 'one'\n", "seed must be int"),
        ("seed = [\n", "is not a valid TOML file"),
        ("decoders = [1, 2]\n", "decoders must be a list of names"),
    ],
)
def test_config_file_errors_name_the_file(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        read_config_file(path)
    assert str(path) in str(caught.value)


def test_command_line_overrides_the_config_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('decoders = ["chance"]\nseed = 3\nn_jobs = 2\nlocalizer_folds = 0\n')
    argv = ["run", "--config", str(path), "--seed", "7", "--no-progress"]
    options = _run_options(_build_parser().parse_args(argv), argv)
    assert options["seed"] == 7 and options["n_jobs"] == 2 and options["localizer_folds"] == 0
    assert options["decoders"] == ("chance",) and options["progress"] is False
    assert options["timeout"] == 1800.0  # the parser's default where neither sets it
    argv = ["run", "--config", str(path), "--all"]
    assert _run_options(_build_parser().parse_args(argv), argv)["decoders"] is None


@pytest.mark.slow  # two small runs
def test_run_config_run_json_repeats_the_run(foreign_root, tmp_path, capsys):
    first = tmp_path / "first"
    argv = ["run", "--decoder", "chance", "lda-peak", "--data", str(foreign_root), "--out", str(first),
            "--no-progress", "--seed", "2", "--localizer-folds", "2", "--n-jobs", "1"]  # fmt: skip
    assert main(argv) == 0
    second = tmp_path / "second"
    assert main(["run", "--config", str(first / "run.json"), "--out", str(second), "--force"]) == 0
    old, new = (pd.read_csv(f / "leaderboard.csv") for f in (first, second))
    columns = ["decoder", "imagine_accuracy", "balanced_accuracy", "top3", "localizer_accuracy", "inputs"]
    pd.testing.assert_frame_equal(old[columns], new[columns])
    info = json.loads((second / "run.json").read_text())
    assert info["config"]["seed"] == 2 and info["config"]["decoders"] == ["chance", "lda-peak"]
    assert all(not r["cached"] for r in map(json.loads, (second / "tasks.jsonl").read_text().splitlines()))


def test_console_script_help_runs():
    command = [sys.executable, "-m", "benchmark", "run", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m benchmark run")
    assert "--config FILE" in done.stdout


@pytest.mark.parametrize(
    ("old_root", "new_root", "expected"),
    [
        (
            "~/.cache/imagine-bench/simulated-0797ce37bf/data",
            "/tmp/h/simulated-0797ce37bf/data",
            "note: the default",
        ),
        (
            "~/.cache/imagine-bench/simulated-0797ce37bf/data",
            "/tmp/h/simulated-aaaaaaaaaa/data",
            "warning: dataset",
        ),
        ("/data/imagine", "/data/imagine", "warning: dataset"),
    ],
)
def test_replayed_run_json_warns_only_for_other_data(tmp_path, capsys, old_root, new_root, expected):
    """A regenerated default simulation (same key) is noted, not warned about; other data is warned about."""
    from benchmark.commands import _warn_if_other_dataset

    recorded, written = tmp_path / "old.json", tmp_path / "new.json"
    recorded.write_text(json.dumps({"fingerprint": "aaaa", "dataset_root": old_root}))
    written.write_text(json.dumps({"fingerprint": "bbbb", "dataset_root": new_root}))
    _warn_if_other_dataset(recorded, written)
    err = capsys.readouterr().err
    assert err.startswith(expected) and ("warning" in err) == expected.startswith("warning")
    written.write_text(json.dumps({"fingerprint": "aaaa", "dataset_root": new_root}))
    _warn_if_other_dataset(recorded, written)
    assert capsys.readouterr().err == ""  # same fingerprint: silent


def test_a_replay_works_from_any_folder_and_leaves_the_recorded_reports_alone(
    foreign_root, tmp_path, monkeypatch
):
    """run.json records absolute paths; ``run --config`` from anywhere repeats the run in its own folder."""
    import shutil

    monkeypatch.setenv("IMAGINE_BENCH_HOME", str(tmp_path / "home"))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copytree(foreign_root, checkout / "data")
    monkeypatch.chdir(checkout)  # relative --data and --out, as from a checkout's root
    argv = ["run", "--decoder", "chance", "--data", "data", "--out", "reports", "--subjects", "sub-02",
            "--no-progress", "--localizer-folds", "0", "--no-data-cache"]  # fmt: skip
    assert main(argv) == 0
    recorded = json.loads((checkout / "reports" / "run.json").read_text())
    assert recorded["config"]["data"] == str(checkout / "data")
    assert recorded["config"]["out"] == str(checkout / "reports")
    assert recorded["fingerprint"]
    before = {p: p.stat().st_mtime_ns for p in (checkout / "reports").rglob("*")}
    for cwd in (tmp_path, checkout):  # from another folder, and from the checkout's root
        monkeypatch.chdir(cwd)
        config = "checkout/reports/run.json" if cwd == tmp_path else "reports/run.json"
        assert main(["run", "--config", config, "--no-progress"]) == 0
    assert {p: p.stat().st_mtime_ns for p in (checkout / "reports").rglob("*")} == before
    (replay,) = (tmp_path / "home" / "replays").iterdir()
    replayed = json.loads((replay / "run.json").read_text())
    assert replayed["fingerprint"] == recorded["fingerprint"]
    assert replayed["config"]["data"] == recorded["config"]["data"]
