"""One path for a run's configuration: the command line, config files and run.json give one RunConfig.

Every source's option names pass through ``benchmark.config.run_fields``
(the one alias table, ``ALIASES``) and the merged options become a
RunConfig in ``benchmark.config.build_run_config``; ``moabb_pipelines`` is a
field, recorded in run.json with portable paths and replayed by
``run --config run.json``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from benchmark.config import (
    ALIASES,
    CACHE_PLACEHOLDER,
    COMMAND_LINE_DEFAULTS,
    RunConfig,
    build_run_config,
    read_config_file,
)
from benchmark.parser import build_parser, run_defaults, run_options
from benchmark.runinfo import portable_paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "moabb"
#: The keys run.json's ``config`` block had before ``moabb_pipelines`` was a field.
RECORDED_KEYS = ["data", "out", "decoders", "subjects", "n_jobs", "seed", "localizer_folds", "progress",
                 "timeout", "max_memory_mb", "force", "data_cache", "backend", "scheduler"]  # fmt: skip


def _from_command_line(argv: list[str]) -> RunConfig:
    return build_run_config(run_options(build_parser().parse_args(argv), argv))


def _run_json(folder: Path, config: RunConfig, cache: Path) -> Path:
    """Write the run.json a run with ``config`` publishes (portable paths, as benchmark.report does)."""
    info = portable_paths({"fingerprint": "f" * 16, "config": config.to_dict()}, cache=cache)
    path = folder / "run.json"
    path.write_text(json.dumps(info, indent=2) + "\n")
    return path


def test_command_line_and_config_file_give_the_same_config(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    argv = ["run", "--decoder", "chance", "lda-peak", "--data", str(data), "--out", str(out), "--seed", "4",
            "--n-jobs", "2", "--max-memory", "900", "--no-progress", "--no-data-cache",
            "--moabb-pipelines", str(EXAMPLES)]  # fmt: skip
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'decoder = ["chance", "lda-peak"]\ndata = "{data}"\nout = "{out}"\nseed = 4\nn-jobs = 2\n'
        f'max_memory = 900.0\nno_progress = true\nno_data_cache = true\nmoabb-pipelines = ["{EXAMPLES}"]\n'
    )
    from_file = _from_command_line(["run", "--config", str(toml)])
    from_flags = _from_command_line(argv)
    assert from_file == from_flags
    assert from_flags.moabb_pipelines == (EXAMPLES,) and from_flags.data_cache is None
    assert from_flags.decoders == ("chance", "lda-peak") and from_flags.max_memory_mb == 900


def test_run_json_records_and_replays_moabb_pipelines(tmp_path, monkeypatch):
    cache = tmp_path / "home"
    monkeypatch.setenv("IMAGINE_BENCH_HOME", str(cache))
    pipelines = cache / "pipelines"
    shutil.copytree(EXAMPLES, pipelines)
    config = RunConfig(data=tmp_path / "data", out=tmp_path / "out", decoders=("moabb-xdawncovariances-mdm",),
                       seed=5, moabb_pipelines=(pipelines,))  # fmt: skip
    run_json = _run_json(tmp_path, config, cache)
    recorded = json.loads(run_json.read_text())["config"]
    assert recorded["moabb_pipelines"] == [f"{CACHE_PLACEHOLDER}/pipelines"]  # portable, like the other paths
    replayed = build_run_config({**read_config_file(run_json), "out": config.out})
    assert replayed == config
    argv = ["run", "--config", str(run_json), "--out", str(config.out)]
    assert _from_command_line(argv) == dataclasses.replace(config, n_jobs=1, progress=True)


def test_run_json_without_moabb_pipelines_is_unchanged_and_old_ones_load(tmp_path):
    config = RunConfig(data=tmp_path / "data", out=tmp_path / "out")
    assert list(config.to_dict()) == RECORDED_KEYS  # no new key for a run without MOABB pipelines
    run_json = _run_json(tmp_path, config, tmp_path / "home")
    replayed = build_run_config({**read_config_file(run_json), "out": config.out})
    assert replayed.moabb_pipelines is None and replayed == config


def test_parser_defaults_come_from_run_config():
    defaults = run_defaults()
    for field in dataclasses.fields(RunConfig):
        expected = COMMAND_LINE_DEFAULTS.get(field.name, field.default)
        if expected is not dataclasses.MISSING:
            assert defaults[field.name] == expected, field.name
    assert set(COMMAND_LINE_DEFAULTS) == {"out", "n_jobs", "data_cache"}


def test_the_alias_table_is_the_only_one():
    """No module of the harness but config.py maps an option spelling to a RunConfig field."""
    found = []
    for path in sorted((ROOT / "benchmark").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                pairs = {
                    (k.value, v.value)
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                }
                if pairs & set(ALIASES.items()):  # e.g. {"decoder": "decoders"}
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [f"benchmark/config.py:{_line_of('ALIASES')}"], found


def _line_of(name: str) -> int:
    tree = ast.parse((ROOT / "benchmark" / "config.py").read_text())
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.value.lineno
    raise LookupError(name)


@pytest.mark.parametrize("value", ["not a list", [1]])
def test_bad_moabb_pipelines_name_the_file(tmp_path, value):
    from benchmark.errors import ConfigError

    path = tmp_path / "run.json"
    path.write_text(json.dumps({"moabb_pipelines": value if value != "not a list" else 3}))
    with pytest.raises(ConfigError, match="moabb_pipelines must be a list of paths") as caught:
        read_config_file(path)
    assert str(path) in str(caught.value)
