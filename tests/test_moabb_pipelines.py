"""MOABB pipeline YAML files run as decoders (two of MOABB's own files, in tests/moabb_pipelines/).

The contract checks of ``test_contract.py`` run on them too (its decoder list
includes this folder); here: discovery, naming, citations, errors that name
the file, and a run whose leaderboard lists them.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.errors import DecoderRegistrationError
from benchmark.registry import discover

FOLDER = Path(__file__).parent / "moabb_pipelines"
NAMES = ["moabb-csp-lda", "moabb-xdawncovariances-mdm"]


def test_folder_registers_two_decoders_with_citations():
    registry = discover(pipelines=[FOLDER])
    specs = {name: registry.get(name) for name in NAMES}
    assert specs["moabb-csp-lda"].family == "spectral"
    assert specs["moabb-xdawncovariances-mdm"].family == "riemannian"
    assert "https://doi.org/10.1007/BF01129656" in specs["moabb-csp-lda"].reference
    assert specs["moabb-csp-lda"].module.endswith("csp_lda.yml")
    assert "CSP + LDA" in specs["moabb-csp-lda"].description
    assert not set(NAMES) & set(discover().names)  # only where asked for


def test_mdm_pipeline_takes_distances_as_evidence():
    spec = discover(pipelines=[FOLDER / "xdawn_mdm.yml"]).get("moabb-xdawncovariances-mdm")
    from tests.test_contract import context

    assert spec.factory(context()).method == "transform"
    assert discover(pipelines=[FOLDER / "csp_lda.yml"]).get("moabb-csp-lda").factory(context()).method == (
        "decision_function"
    )


def test_broken_file_is_named(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: no steps\n")
    with pytest.raises(DecoderRegistrationError, match=r"bad\.yml: a MOABB pipeline file needs"):
        discover(pipelines=[bad])
    registry = discover(strict=False, pipelines=[tmp_path])
    assert str(bad) in registry.broken
    with pytest.raises(DecoderRegistrationError, match="no such MOABB pipeline"):
        discover(pipelines=[tmp_path / "missing"])


def test_duplicate_pipeline_name_is_refused(tmp_path):
    shutil.copy(FOLDER / "csp_lda.yml", tmp_path / "a.yml")
    shutil.copy(FOLDER / "csp_lda.yml", tmp_path / "b.yml")
    with pytest.raises(DecoderRegistrationError, match="already declared"):
        discover(pipelines=[tmp_path])


@pytest.mark.slow
def test_run_puts_pipelines_on_the_leaderboard(foreign_root, tmp_path):
    out = tmp_path / "reports"
    argv = ["run", "--data", str(foreign_root), "--out", str(out), "--no-progress", "--n-jobs", "1"]
    argv += ["--decoder", *NAMES, "--moabb-pipelines", str(FOLDER), "--localizer-folds", "0"]
    assert main(argv) == 0
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["decoder"]) == NAMES
    run = json.loads((out / "run.json").read_text())
    assert run["decoders"] == NAMES
    assert "https://doi.org/10.1007/BF01129656" in run["decoder_references"]["moabb-csp-lda"]
