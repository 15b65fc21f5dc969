"""Stored results are verified, not trusted: rescored from their probabilities, keyed by all their code."""

import json
import logging
import textwrap

import pytest

from benchmark import store
from benchmark.config import RunConfig
from benchmark.contract import DecoderSpec
from benchmark.experiment import run_benchmark
from decoders.chance import ChanceDecoder


def _config(root, out, **kwargs):
    base = {
        "decoders": ("chance",),
        "subjects": ("sub-02", "sub-40"),
        "localizer_folds": 0,
        "progress": False,
    }
    return RunConfig(data=root, out=out, **{**base, **kwargs})


def _edit_stored(out, subject, change):
    rows = {
        json.loads(line)["subject"]: json.loads(line)
        for line in (out / "tasks.jsonl").read_text().splitlines()
    }
    path = out / "cache" / f"{rows[subject]['key']}.json"
    row = json.loads(path.read_text())
    change(row)
    path.write_text(json.dumps(row))
    return rows[subject]


def test_an_edited_score_is_recomputed_with_a_warning(foreign_root, tmp_path, caplog):
    out = tmp_path / "out"
    run_benchmark(_config(foreign_root, out))
    original = _edit_stored(out, "sub-02", lambda row: row.update(imagine_accuracy=0.99, top3=1.0))
    with caplog.at_level(logging.WARNING, logger="benchmark.runner"):
        rows = {r["subject"]: r for r in run_benchmark(_config(foreign_root, out)).rows}
    assert rows["sub-02"]["cached"] is True
    assert rows["sub-02"]["imagine_accuracy"] == original["imagine_accuracy"] != 0.99
    assert rows["sub-02"]["top3"] == original["top3"]
    assert "imagine_accuracy, top3 differ(s) from what its probabilities give" in caplog.text


@pytest.mark.parametrize(
    ("subject", "change", "why"),
    [
        ("sub-02", lambda row: row.update(trial_idx=[0] * len(row["trial_idx"])), "trial_idx are not 1.."),
        ("sub-40", lambda row: row.update(trial_idx=[0] * len(row["trial_idx"])), "trial_idx are not 1.."),
        ("sub-02", lambda row: row.update(y_true=[0] * len(row["y_true"])), "y_true disagree"),
    ],
)
def test_a_stored_row_that_disagrees_with_the_dataset_is_rerun(
    foreign_root, tmp_path, caplog, subject, change, why
):
    out = tmp_path / "out"
    run_benchmark(_config(foreign_root, out))
    original = _edit_stored(out, subject, change)
    with caplog.at_level(logging.WARNING, logger="benchmark.runner"):
        rows = {r["subject"]: r for r in run_benchmark(_config(foreign_root, out)).rows}
    assert rows[subject]["cached"] is False
    assert rows[subject]["trial_idx"] == original["trial_idx"]
    assert why in caplog.text and original["key"] in caplog.text


def test_the_task_key_covers_every_project_file_the_decoder_imports(tmp_path, monkeypatch):
    """A decoder built on another (self-training on lda_peak.py): editing what it imports changes its key."""
    pkg = tmp_path / "built_decoders"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("FACTOR = 1\n")
    (pkg / "base.py").write_text("from .sub.deep import FACTOR\n")
    (pkg / "derived.py").write_text(
        textwrap.dedent("""
        def make(context):
            from built_decoders.base import FACTOR  # imported lazily, inside the factory
            return FACTOR
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = DecoderSpec(
        name="derived",
        family="baseline",
        description="d",
        factory=ChanceDecoder,
        module=str(pkg / "derived.py"),
    )
    config = RunConfig(data=tmp_path, out=tmp_path)
    closure = {p.name for p in store.import_closure(pkg / "derived.py", (tmp_path,))}
    assert {"derived.py", "base.py", "deep.py"} <= closure
    before = store.task_key(spec, "sub-02", config, "fp")
    (pkg / "sub" / "deep.py").write_text("FACTOR = 2\n")
    store._file_digest.cache_clear()
    assert store.task_key(spec, "sub-02", config, "fp") != before


def test_self_training_key_covers_lda_peak():
    closure = {p.name for p in store.import_closure(store._ROOT / "decoders" / "self_training.py")}
    assert "lda_peak.py" in closure


def test_the_task_key_names_every_computing_library():
    versions = dict(store._versions())
    assert {"moabb", "mne", "scikit-learn", "pyriemann", "numpy", "scipy", "python"} <= set(versions)
