"""pytest-benchmark JSON (``tox -e bench``) rendered into ``reports/runtime.md``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def render_benchmark_json(data: dict, source: str = "runtime.json") -> str:
    """Markdown table of a pytest-benchmark JSON report.

    Parameters
    ----------
    data : dict
        The parsed ``--benchmark-json`` file (keys ``machine_info``,
        ``commit_info``, ``benchmarks``, ``datetime``, ``version``).
    source : str
        File name quoted in the text.

    Returns
    -------
    str
        Markdown: machine information, then one row per benchmark with mean,
        standard deviation, min, max (seconds) and rounds.
    """
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ValueError(
            f"{source}: expected pytest-benchmark JSON with a 'benchmarks' list "
            f"(written by pytest --benchmark-json), got {sorted(data) if isinstance(data, dict) else data!r}."
        )
    machine = data.get("machine_info") or {}
    cpu = machine.get("cpu") or {}
    commit = data.get("commit_info") or {}
    facts = [
        ("date", data.get("datetime", "?")),
        ("pytest-benchmark", data.get("version", "?")),
        (
            "machine",
            f"{machine.get('node', '?')} ({machine.get('system', '?')} {machine.get('release', '')})".strip(),
        ),
        ("processor", cpu.get("brand_raw") or machine.get("processor") or machine.get("machine", "?")),
        ("cores", cpu.get("count", "?")),
        (
            "python",
            f"{machine.get('python_implementation', '')} {machine.get('python_version', '?')}".strip(),
        ),
        ("commit", f"{commit.get('id', '?')[:12]}{' (dirty)' if commit.get('dirty') else ''}"),
    ]
    lines = [
        "## Benchmark timings (pytest-benchmark)",
        "",
        f"Rendered from `{source}` by `python -m tools profile --render`. Seconds per round; "
        "the machine may have been shared with other jobs, so compare rows of one file rather than "
        "files from different days.",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in facts],
        "",
        "| benchmark | mean (s) | stddev (s) | min (s) | max (s) | rounds | extra |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for bench in sorted(data["benchmarks"], key=lambda b: (b.get("group") or "", b.get("name", ""))):
        stats = bench.get("stats") or {}
        extra = bench.get("extra_info") or {}
        extra_text = ", ".join(f"{k}={_short(v)}" for k, v in sorted(extra.items()))
        name = bench.get("name", "?")
        if bench.get("group"):
            name = f"{bench['group']}: {name}"
        lines.append(
            f"| {name} | {_num(stats.get('mean'))} | {_num(stats.get('stddev'))} | "
            f"{_num(stats.get('min'))} | {_num(stats.get('max'))} | {stats.get('rounds', '?')} | "
            f"{extra_text} |"
        )
    return "\n".join(lines) + "\n"


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) and math.isfinite(value) else "-"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "/")


def write_runtime_bench(json_path: Path, out: Path) -> Path:
    """Render ``json_path`` (pytest-benchmark JSON) into the ``bench`` section of ``out``.

    The other sections of ``out`` (``reports/runtime.md``: the last run's
    per-decoder totals) are kept.
    """
    from benchmark.markdown import write_section

    data = json.loads(Path(json_path).read_text())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_section(out, "bench", render_benchmark_json(data, source=Path(json_path).name))
