"""``index.html``: one self-contained page (no scripts, no external files).

Plots are embedded as base64 PNG ``data:`` URIs, so the page can be mailed,
archived or opened from a CI artifact as a single file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from benchmark import stats

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td.text { text-align: left; }
tr.tied td { background: #fff8dc; }
figure { margin: 1.5em 0; }
figcaption { font-size: 0.9em; color: #555; max-width: 900px; }
img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.legend { font-size: 0.9em; color: #444; max-width: 1000px; }
"""

_TEXT_COLUMNS = {"decoder", "family", "status"}


def leaderboard_html(rows: Sequence[Mapping[str, str]], tied: Sequence[bool]) -> str:
    """Render the leaderboard's display rows as an HTML table (``id="leaderboard"``)."""
    if not rows:
        return '<table id="leaderboard"><tr><td>no results</td></tr></table>'
    headers = list(rows[0])
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = []
    for row, is_tied in zip(rows, tied, strict=True):
        cells = "".join(
            f'<td class="text">{escape(str(row[h]))}</td>'
            if h in _TEXT_COLUMNS
            else f"<td>{escape(str(row[h]))}</td>"
            for h in headers
        )
        body.append(f'<tr class="tied">{cells}</tr>' if is_tied else f"<tr>{cells}</tr>")
    return f'<table id="leaderboard"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _clusters_html(courses: Mapping) -> str:
    items = []
    for name, course in courses.items():
        found = [c for c in course.clusters if c.p <= 0.05]
        text = (
            ", ".join(f"{c.tmin:.2f}-{c.tmax:.2f} s (p = {c.p:.3g})" for c in found)
            if found
            else "no cluster with p <= 0.05"
        )
        items.append(f"<li><b>{escape(name)}</b> ({course.curves.shape[0]} subjects): {escape(text)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def render_index(
    board: pd.DataFrame,
    plots: Sequence,
    run_info: dict,
    compared: stats.Comparisons | None = None,
    courses: Mapping | None = None,
) -> str:
    """Render the full ``index.html`` text.

    Parameters
    ----------
    board : DataFrame
        From :func:`benchmark.report.leaderboard`.
    plots : sequence of benchmark.figures.Plot
        Rendered figures, embedded in order.
    run_info : dict
        The run's ``run.json`` content (configuration, versions, provenance).
    compared : Comparisons, optional
        For the sentence naming the best decoder and its tied group.
    courses : mapping of str to TimeCourse, optional
        For the list of significant time clusters.
    """
    from benchmark.report import LEADERBOARD_LEGEND, leaderboard_table

    table = leaderboard_html(leaderboard_table(board), board["tied_with_best"].tolist() if len(board) else [])
    config = run_info.get("config", {})
    summary = (
        f"Dataset <code>{escape(str(run_info.get('dataset', '?')))}</code> "
        f"(fingerprint <code>{escape(str(run_info.get('fingerprint', '?')))}</code>), "
        f"seed {escape(str(config.get('seed', '?')))}, "
        f"code <code>{escape(str(run_info.get('git_revision', '?')))}</code>, "
        f"started {escape(str(run_info.get('started_utc', '?')))}."
    )
    best = ""
    if compared is not None and compared.best is not None:
        group = compared.tied_with_best()
        best = (
            f"<p>Best mean imagine accuracy: <b>{escape(compared.best)}</b>; not significantly below it "
            f"({compared.n_subjects} subjects): {escape(', '.join(group[1:]) or 'none')}.</p>"
        )
    sections = []
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        clusters = _clusters_html(courses) if plot.name == "time_courses" and courses else ""
        sections.append(
            f'<section id="{escape(plot.name)}"><h2>{escape(plot.title)}</h2><figure>'
            f'<img src="data:image/png;base64,{data}" alt="{escape(plot.title)}">'
            f"<figcaption>{escape(plot.caption)}</figcaption></figure>{clusters}</section>"
        )
    details = escape(json.dumps(run_info, indent=2, default=str, sort_keys=True))
    versions = run_info.get("versions", {})
    version_text = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in versions.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>imagine-bench leaderboard</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>imagine-bench leaderboard</h1>
<p>{summary}</p>
<p>Decoders learn from the localizer only and are scored on the train subjects' imagine trials
(10 items, chance 10 %).</p>
{best}
{table}
<p class="legend">{escape(LEADERBOARD_LEGEND)}</p>
{"".join(sections)}
<section id="run"><h2>Run configuration and versions</h2>
<p>{version_text}</p>
<pre>{details}</pre>
</section>
</body>
</html>
"""
