"""MOABB pipeline YAML files run as decoders (two of MOABB's own files in decoders/, one in examples/).

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

FOLDER = Path(__file__).parents[1] / "decoders"
EXAMPLES = Path(__file__).parents[1] / "examples" / "moabb"
NAMES = ["moabb-csp-lda", "moabb-xdawn-lda"]


def test_folder_registers_two_decoders_with_citations():
    registry = discover()
    specs = {name: registry.get(name) for name in NAMES}
    assert specs["moabb-csp-lda"].family == "spectral"
    assert specs["moabb-xdawn-lda"].family == "linear"  # spatial filters + LDA: no covariance features
    assert "https://doi.org/10.1007/BF01129656" in specs["moabb-csp-lda"].reference
    assert specs["moabb-csp-lda"].module.endswith("moabb_csp_lda.yml")
    assert "CSP + LDA" in specs["moabb-csp-lda"].description


def test_mdm_pipeline_takes_distances_as_evidence():
    registry = discover(pipelines=[EXAMPLES])
    from tests.synthetic import context

    spec = registry.get("moabb-xdawncovariances-mdm")
    assert spec.family == "riemannian"
    assert spec.factory(context()).method == "transform"
    assert registry.get("moabb-csp-lda").factory(context()).method == "decision_function"


def test_the_example_pipeline_is_not_in_the_default_run():
    names = discover().names
    assert "moabb-xdawncovariances-mdm" not in names
    assert sorted(n for n in names if n.startswith("moabb-")) == NAMES


def test_pipelines_given_on_the_command_line_register_beside_the_folder(tmp_path):
    text = (FOLDER / "moabb_csp_lda.yml").read_text().replace("name: CSP + LDA", "name: My CSP")
    (tmp_path / "mine.yml").write_text(text)
    assert "moabb-my-csp" not in discover().names  # only where asked for
    registry = discover(pipelines=[tmp_path])
    assert "moabb-my-csp" in registry.names and set(NAMES) <= set(registry.names)


def test_broken_file_is_named(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: no steps\n")
    with pytest.raises(DecoderRegistrationError, match=r"bad\.yml: a MOABB pipeline file needs"):
        discover(pipelines=[bad])
    registry = discover(strict=False, pipelines=[tmp_path])
    assert str(bad) in registry.broken
    with pytest.raises(DecoderRegistrationError, match="no such pipeline file"):
        discover(pipelines=[tmp_path / "missing"])


def test_duplicate_pipeline_name_is_refused(tmp_path):
    shutil.copy(FOLDER / "moabb_csp_lda.yml", tmp_path / "a.yml")
    with pytest.raises(DecoderRegistrationError, match="already declared"):
        discover(pipelines=[tmp_path])


@pytest.mark.slow
def test_run_puts_pipelines_on_the_leaderboard(foreign_root, tmp_path):
    out = tmp_path / "reports"
    argv = ["run", "--data", str(foreign_root), "--out", str(out), "--no-progress", "--n-jobs", "1"]
    argv += ["--decoder", *NAMES, "--localizer-folds", "0"]
    assert main(argv) == 0
    board = pd.read_csv(out / "leaderboard.csv")
    assert sorted(board["decoder"]) == NAMES
    run = json.loads((out / "run.json").read_text())
    assert run["decoders"] == NAMES
    assert "https://doi.org/10.1007/BF01129656" in run["decoder_references"]["moabb-csp-lda"]
