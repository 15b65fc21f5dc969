"""``index.html``: one self-contained, offline page.

Plots are embedded as base64 PNG ``data:`` URIs and the only script is a few
inline lines that sort the leaderboard table, so the page can be mailed,
archived or opened from a CI artifact as a single file; nothing is loaded
from the network. Links to the CSV and JSON files are relative: they work
when the page sits in its report folder.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

from benchmark import stats
from benchmark.tables import DATASET_NAMES, is_true, leaderboard_legend, leaderboard_table

_STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0.5em 1em 3em; color: #222; line-height: 1.4; }
header.banner { padding: 0.6em 1em; border-radius: 6px; margin: 0.8em 0; }
header.simulated { background: #fff3cd; border: 1px solid #e0c060; }
header.real { background: #e8f4ea; border: 1px solid #8bc49a; }
nav.toc { font-size: 0.9em; margin: 0.8em 0; }
nav.toc ol { margin: 0.2em 0; padding-left: 1.4em; columns: 2 16em; }
.table-wrap { max-width: 100%; }
table { border-collapse: collapse; font-size: 0.82em; width: 100%; table-layout: auto; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.4em; text-align: right; }
th { background: #f3f3f3; cursor: pointer; user-select: none; font-weight: 600; }
th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.7em; }
th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.7em; }
td.text { text-align: left; }
tr.tied td { background: #fff8dc; }
tr.unranked td { color: #666; font-style: italic; }
figure { margin: 1.2em 0; }
figcaption { font-size: 0.9em; color: #555; max-width: 900px; }
img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.legend { font-size: 0.88em; color: #444; max-width: 1000px; }
.note { background: #fdecea; border-left: 4px solid #c0392b; padding: 0.4em 0.8em; max-width: 1000px; }
ul.files { columns: 2 22em; }
@media (max-width: 1000px) {
  table .wide { display: none; }
  table { font-size: 0.75em; }
}
"""

# Sort the leaderboard by a clicked column (numbers by value, text alphabetically).
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var key = function (r) { var t = r.cells[col].textContent.trim(), n = parseFloat(t);
        return isNaN(n) ? t.toLowerCase() : n; };
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_TEXT_COLUMNS = {"decoder", "family", "status"}
#: Columns hidden below 1000 px (they are in the runtime section and leaderboard.csv).
_WIDE_COLUMNS = {"localizer %", "fit s", "predict s", "memory MB", "status"}

#: Files of a report folder, linked from the page (those present).
REPORT_FILES = (
    ("leaderboard.csv", "one row per decoder, every statistic"),
    ("leaderboard.md", "this leaderboard as Markdown"),
    ("results.csv", "MOABB-ready scores: ranked decoders x train subjects"),
    ("results_all.csv", "every task, test subjects, failures and unranked decoders included"),
    ("pairwise.csv", "every ordered pair of ranked decoders"),
    ("history.csv", "the leaderboard of every recorded run"),
    ("runtime.md", "time and memory per decoder"),
    ("run.json", "configuration, versions, revision; python -m benchmark run --config run.json repeats it"),
    ("tasks.jsonl", "raw result rows, one per task"),
    ("submissions/README.md", "the Kaggle submission files"),
)


def inline_code(text: str) -> str:
    """Escape ``text`` for HTML and turn Markdown-style backtick spans into ``<code>``."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def leaderboard_html(
    rows: Sequence[Mapping[str, str]], tied: Sequence[bool], unranked: Sequence[bool] | None = None
) -> str:
    """Render the leaderboard's display rows as a sortable HTML table (``id="leaderboard"``)."""
    if not rows:
        return '<table id="leaderboard"><tr><td>no results</td></tr></table>'
    unranked = unranked if unranked is not None else [False] * len(rows)
    headers = list(rows[0])

    def cls(h: str, *extra: str) -> str:
        names = [*extra, *(["wide"] if h in _WIDE_COLUMNS else [])]
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f'<th scope="col"{cls(h)} title="sort by {escape(h)}">{escape(h)}</th>' for h in headers)
    body = []
    for row, is_tied, is_apart in zip(rows, tied, unranked, strict=True):
        cells = "".join(
            f"<td{cls(h, *(['text'] if h in _TEXT_COLUMNS else []))}>"
            # a line may break after a decoder name's hyphens, never inside a word
            f"{escape(str(row[h])).replace('-', '-<wbr>') if h == 'decoder' else escape(str(row[h]))}</td>"
            for h in headers
        )
        kind = " ".join(k for k, on in (("tied", is_tied), ("unranked", is_apart)) if on)
        body.append(f'<tr class="{kind}">{cells}</tr>' if kind else f"<tr>{cells}</tr>")
    return (
        f'<div class="table-wrap"><table id="leaderboard" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


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


def _files_html(present: Sequence[str] | None) -> str:
    items = [
        f'<li><a href="{escape(name)}">{escape(name)}</a>: {escape(what)}</li>'
        for name, what in REPORT_FILES
        if present is None or name in present
    ]
    return f'<ul class="files">{"".join(items)}</ul>'


def render_index(
    board: pd.DataFrame,
    plots: Sequence,
    run_info: dict,
    compared: stats.Comparisons | None = None,
    courses: Mapping | None = None,
    *,
    notes: Sequence[str] = (),
    simulated: bool = False,
    files: Sequence[str] | None = None,
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
    notes : sequence of str
        Statistical caveats (:func:`benchmark.report.statistics_notes`).
    simulated : bool
        Whether the data are simulated (said in the title and a banner).
    files : sequence of str, optional
        Report files present next to the page (all of :data:`REPORT_FILES` if None).
    """
    n_rows = len(board)
    tied = [is_true(v) for v in board["tied_with_best"]] if n_rows else []
    apart = [not bool(v) for v in board["eligible"]] if n_rows else []
    table = leaderboard_html(leaderboard_table(board), tied, apart)
    config = run_info.get("config", {})
    n_train = int(board["n_subjects"].max()) if n_rows and board["n_subjects"].notna().any() else 0
    label = DATASET_NAMES[bool(simulated)]
    title = f"imagine-bench leaderboard: {'simulated data' if simulated else 'IMAGINE challenge data'}"
    banner = (
        '<header class="banner simulated"><b>Simulated data.</b> These scores come from '
        "<code>datasets.simulate</code>, not from the challenge's MEG recordings: they show how the "
        "decoders behave on the simulation. The submissions of this folder are for simulated test "
        "subjects.</header>"
        if simulated
        else '<header class="banner real"><b>IMAGINE challenge data</b> (train subjects scored; test '
        "subjects only in the submissions).</header>"
    )
    summary = (
        f"Dataset <code>{escape(label)}</code> (folder <code>{escape(str(run_info.get('dataset', '?')))}"
        f"</code>, fingerprint <code>{escape(str(run_info.get('fingerprint', '?')))}</code>), "
        f"{n_train} train subjects, seed {escape(str(config.get('seed', '?')))}, "
        f"code <code>{escape(str(run_info.get('git_revision', '?')))}</code>, "
        f"started {escape(str(run_info.get('started_utc', '?')))}."
    )
    best = ""
    if compared is not None and compared.best is not None:
        if compared.can_separate_from_best():
            group = compared.tied_with_best()
            best = (
                f"<p>Best mean imagine accuracy: <b>{escape(compared.best)}</b>; not significantly below "
                f"it ({compared.n_subjects} subjects): {escape(', '.join(group[1:]) or 'none')}.</p>"
            )
        else:
            best = (
                f"<p>Best mean imagine accuracy: <b>{escape(compared.best)}</b>; with "
                f"{compared.n_subjects} subjects the tests cannot say which decoders are below it "
                "(see the note).</p>"
            )
    notes_html = "".join(f'<p class="note"><b>Note.</b> {inline_code(n)}</p>' for n in notes)
    sections = [("leaderboard-section", "Leaderboard")]
    figures_html = []
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        clusters = _clusters_html(courses) if plot.name == "time_courses" and courses else ""
        sections.append((plot.name, plot.title))
        figures_html.append(
            f'<section id="{escape(plot.name)}"><h2>{escape(plot.title)}</h2><figure>'
            f'<img src="data:image/png;base64,{data}" alt="{escape(plot.title)}">'
            f"<figcaption>{inline_code(plot.caption)}</figcaption></figure>{clusters}</section>"
        )
    sections += [("files", "Report files"), ("run", "Run configuration and versions")]
    toc = "".join(f'<li><a href="#{escape(i)}">{escape(t)}</a></li>' for i, t in sections)
    details = escape(json.dumps(run_info, indent=2, default=str, sort_keys=True))
    versions = run_info.get("versions", {})
    version_text = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in versions.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
{banner}
<p>{summary}</p>
<nav class="toc" id="contents"><b>Contents</b><ol>{toc}</ol></nav>
<section id="leaderboard-section"><h2>Leaderboard</h2>
<p>Decoders learn from the localizer only and are scored on the train subjects' imagine trials
(10 items, chance 10 %). Click a column header to sort.</p>
{best}
{notes_html}
{table}
<p class="legend">{inline_code(leaderboard_legend(run_info))}</p>
</section>
{"".join(figures_html)}
<section id="files"><h2>Report files</h2>
<p>Next to this page (docs/reports.md in the repository describes each one):</p>
{_files_html(files)}
</section>
<section id="run"><h2>Run configuration and versions</h2>
<p>{version_text}</p>
<pre>{details}</pre>
</section>
<script>{_SCRIPT}</script>
</body>
</html>
"""
