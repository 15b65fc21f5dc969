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

import numpy as np
import pandas as pd

from benchmark import stats
from benchmark.html_assets import SCRIPT, STYLE
from benchmark.tables import DATASET_NAMES, is_true, leaderboard_legend, leaderboard_table

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
    ("robustness.csv", "a robustness run: every regime x alpha x decoder, with the transfer ceiling"),
    ("robustness.md", "the robustness run's matrix as Markdown"),
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


def _hex_on(value: float, cmap: str, norm) -> tuple[str, str]:
    """Background colour of ``value`` on ``cmap``/``norm`` and the text colour that reads on it."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from benchmark.figures import text_color

    rgba = colormaps[cmap](norm(value))
    return to_hex(rgba), text_color(rgba)


def heat_table(
    rows: Sequence[str],
    columns: Sequence[str],
    values,
    texts,
    *,
    cmap: str,
    norm,
    table_id: str,
    groups: Sequence[tuple[str, int]] = (),
    vertical: bool = False,
    row_classes: Sequence[str] = (),
    tips=None,
    corner: tuple[str, str] = ("", ""),
) -> str:
    """Render a heat map as an HTML table of coloured cells, whose text stays readable at any width.

    Parameters
    ----------
    rows, columns : sequence of str
        Row and column labels.
    values : array, shape (n_rows, n_columns)
        Colour values (NaN: grey cell).
    texts : array of str, same shape
        Cell texts.
    cmap : str
        Matplotlib colour map name.
    norm : matplotlib.colors.Normalize
        Maps values to the colour map.
    table_id : str
        ``id`` of the table.
    groups : sequence of (label, span)
        Optional header row above the columns (e.g. a regime over its alphas).
    vertical : bool
        Write the column labels vertically (long names, many columns).
    row_classes : sequence of str
        CSS class per row (``ceiling``, ``apart``).
    tips : array of str, optional
        ``title`` (hover text) per cell.
    """
    head = ""
    if groups:
        head += (
            "<tr><th></th>"
            + "".join(
                f'<th class="group" colspan="{span}">{escape(label).replace("-", "-<wbr>")}</th>'
                for label, span in groups
            )
            + "</tr>"
        )
    kind = ' class="vertical"' if vertical else ""
    head += f'<tr><th class="corner">{escape(corner[1])}</th>'
    head += "".join(f"<th{kind}>{escape(c)}</th>" for c in columns) + "</tr>"
    body = []
    for i, row in enumerate(rows):
        cls = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        cells = []
        for j in range(len(columns)):
            value, text = values[i][j], texts[i][j]
            tip = f' title="{escape(tips[i][j])}"' if tips is not None and tips[i][j] else ""
            if value is None or not np.isfinite(value):
                cells.append(f'<td style="background:#eeeeee"{tip}>{escape(text)}</td>')
                continue
            background, color = _hex_on(value, cmap, norm)
            strong = ' class="sig"' if text.endswith("*") else ""
            cells.append(
                f'<td{strong} style="background:{background};color:{color}"{tip}>{escape(text)}</td>'
            )
        label = escape(row).replace("-", "-<wbr>")
        body.append(f'<tr{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}><th class="row">{label}</th>'
                    f"{''.join(cells)}</tr>")  # fmt: skip
    return (
        f'<div class="heat-wrap"><table id="{escape(table_id)}" class="heat"><thead>{head}</thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def pairwise_html(compared: stats.Comparisons, alpha: float = 0.05) -> str:
    """Render the pairwise comparisons as a coloured table, with sentences naming the significant pairs."""
    from matplotlib.colors import Normalize

    names = list(compared.decoders)
    k = len(names)
    if k < 2 or compared.n_subjects < 2:
        return "<p>Fewer than two ranked decoders or subjects: nothing to compare.</p>"
    diff = 100 * compared.mean_diff.to_numpy(dtype=float)
    p = compared.p_holm.to_numpy(dtype=float)
    n_pairs = k * (k - 1) // 2
    found = sorted(
        ((names[i], names[j], diff[i, j], p[i, j]) for i in range(k) for j in range(k)
         if i != j and np.isfinite(diff[i, j]) and diff[i, j] > 0 and p[i, j] <= alpha),
        key=lambda t: (t[3], -t[2]),
    )  # fmt: skip
    test = (
        f"two-sided paired sign-flip test over {compared.n_subjects} subjects, "
        f"Holm-corrected over {n_pairs} pairs"
    )
    if not compared.can_separate_pairs(alpha):
        verdict = (
            f"<p><b>No pair can be significant here:</b> with {compared.n_subjects} subjects and {n_pairs} "
            f"pairs, the smallest p the {escape(test)} can give is {compared.min_p_pairwise:.3g} "
            f"&gt; {alpha}. "
            "The table shows the differences only.</p>"
        )
    elif not found:
        verdict = f"<p><b>No pair differs significantly</b> ({escape(test)}, p &le; {alpha}).</p>"
    else:
        items = "".join(
            f"<li><b>{escape(a)}</b> scores higher than <b>{escape(b)}</b>: {d:+.1f} points, "
            f"p = {pv:.2g}</li>"
            for a, b, d, pv in found
        )
        verdict = (
            f"<p><b>{len(found)} of {n_pairs} pairs differ significantly</b> ({escape(test)}, "
            f'p &le; {alpha}); every other pair does not:</p><ul class="significant">{items}</ul>'
        )
    limit = max(1.0, float(np.nanmax(np.abs(diff))))

    def cell(i: int, j: int) -> str:
        if i == j or not np.isfinite(diff[i, j]):
            return ""
        rounded = round(float(diff[i, j]))
        return (f"{rounded:+d}" if rounded else "0") + ("*" if p[i, j] <= alpha else "")

    texts = [[cell(i, j) for j in range(k)] for i in range(k)]
    tips = [["" if i == j else f"{names[i]} minus {names[j]}: {diff[i, j]:+.1f} points, p = {p[i, j]:.2g}"
             for j in range(k)] for i in range(k)]  # fmt: skip
    values = np.where(np.eye(k, dtype=bool), np.nan, diff)
    table = heat_table(names, names, values, texts, cmap="RdBu_r", norm=Normalize(-limit, limit),
                       table_id="pairwise-table", vertical=True, tips=tips)  # fmt: skip
    return verdict + table


def robustness_html(table: pd.DataFrame, ceiling_name: str, chance: float = 0.1) -> str:
    """Heat-map tables of a robustness run: pooled accuracy with the transfer ceiling, and its margin."""
    from matplotlib.colors import TwoSlopeNorm

    columns = list(dict.fromkeys(zip(table["regime"], table["alpha"], strict=True)))
    groups, last = [], None
    for regime, _ in columns:
        if regime == last:
            groups[-1] = (regime, groups[-1][1] + 1)
        else:
            groups.append((regime, 1))
        last = regime
    labels = [f"{alpha:g}" for _, alpha in columns]
    is_ranked = table.groupby("decoder")["ranked"].first().astype(str).str.lower().isin(["true", "1"])
    fractions = table[table["decoder"] != ceiling_name].groupby("decoder")["margin_fraction"].mean()
    ranked = [d for d in fractions.sort_values(ascending=False).index if is_ranked.get(d, False)]
    others = sorted(d for d in fractions.index if not is_ranked.get(d, False))
    order = ranked + others
    cells = table.set_index(["decoder", "regime", "alpha"])
    ceiling = table.groupby(["regime", "alpha"])["ceiling"].first()

    def grid(column: str) -> np.ndarray:
        out = np.full((len(order), len(columns)), np.nan)
        for i, name in enumerate(order):
            for j, (regime, alpha) in enumerate(columns):
                if (name, regime, alpha) in cells.index:
                    out[i, j] = float(cells.loc[(name, regime, alpha), column])
        return out

    acc = 100 * np.vstack([[ceiling.get(c, np.nan) for c in columns], grid("accuracy")])
    frac = grid("margin_fraction")
    rows = [f"transfer ceiling ({ceiling_name})", *order]
    classes = ["ceiling", *["" if d in ranked else "apart" for d in order]]
    top = max(float(np.nanmax(acc)), 100 * chance + 1) if np.isfinite(acc).any() else 100 * chance + 1
    low = min(float(np.nanmin(acc)), 100 * chance - 1) if np.isfinite(acc).any() else 0.0
    acc_text = [["" if not np.isfinite(v) else f"{v:.0f}" for v in row] for row in acc]
    accuracy = heat_table(rows, labels, acc, acc_text, cmap="RdBu_r",
                          norm=TwoSlopeNorm(vmin=low, vcenter=100 * chance, vmax=top),
                          table_id="robustness-accuracy", groups=groups, row_classes=classes,
                          corner=("regime", "α"))  # fmt: skip
    f_low = min(-0.25, float(np.nanmin(frac))) if np.isfinite(frac).any() else -0.25
    f_top = 1.0  # the oracle's fractions above 1 share the ceiling's colour
    frac_text = [
        ["" if not np.isfinite(v) else re.sub(r"^(-?)0\.", r"\1.", f"{v:.2f}") for v in row] for row in frac
    ]
    margin = heat_table(order, labels, frac, frac_text, cmap="RdBu_r",
                        norm=TwoSlopeNorm(vmin=f_low, vcenter=0.0, vmax=f_top),
                        table_id="robustness-margin", groups=groups, row_classes=classes[1:],
                        corner=("regime", "α"))  # fmt: skip
    return (
        "<p>From <code>robustness.csv</code> (<code>python -m benchmark robustness</code>): every simulation "
        "regime and transfer strength α, train subjects' imagine trials pooled. Decoders sorted by their "
        "mean fraction of the ceiling's margin; not ranked ones (diagnostics) in italics at the bottom.</p>"
        f"<h3>Imagine accuracy (%), with the transfer ceiling on top</h3>"
        f'<p class="legend">White: chance ({100 * chance:.0f} %); red above, blue below. The ceiling is '
        f"<code>{escape(ceiling_name)}</code>'s accuracy: what a decoder that knew the imagery pattern could "
        f"reach in that cell.</p>{accuracy}"
        "<h3>Fraction of the ceiling's margin above chance</h3>"
        '<p class="legend">(accuracy - chance) / (ceiling - chance): 0 at chance (white), 1 at the ceiling; '
        "empty where the ceiling is not above chance.</p>"
        f"{margin}"
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
    robustness: pd.DataFrame | None = None,
    ceiling_name: str = "oracle-transfer",
) -> str:
    """Render the full ``index.html`` text.

    Parameters
    ----------
    board : DataFrame
        From :func:`benchmark.frames.leaderboard`.
    plots : sequence of benchmark.figures.Plot
        Rendered figures, embedded in order.
    run_info : dict
        The run's ``run.json`` content (configuration, versions, provenance).
    compared : Comparisons, optional
        For the sentence naming the best decoder and its tied group.
    courses : mapping of str to TimeCourse, optional
        For the list of significant time clusters.
    notes : sequence of str
        Statistical caveats (:func:`benchmark.frames.statistics_notes`).
    simulated : bool
        Whether the data are simulated (said in the title and a banner).
    files : sequence of str, optional
        Report files present next to the page (all of :data:`REPORT_FILES` if None).
    robustness : DataFrame, optional
        ``robustness.csv`` of a robustness run in the same folder: shown as
        heat-map tables with the transfer ceiling (``ceiling_name``).
    ceiling_name : str
        The decoder whose accuracy is the transfer ceiling.
    """
    n_rows = len(board)
    tied = [is_true(v) for v in board["tied_with_best"]] if n_rows else []
    apart = [not bool(v) for v in board["ranked"]] if n_rows else []
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
        if plot.name == "runtime" and robustness is not None and not robustness.empty:
            sections.append(("robustness", "Robustness across simulation regimes"))
            figures_html.append(
                '<section id="robustness"><h2>Robustness across simulation regimes</h2>'
                f"{robustness_html(robustness, ceiling_name)}</section>"
            )
        if plot.name == "pairwise" and compared is not None:  # a table: its text stays readable
            sections.append((plot.name, plot.title))
            figures_html.append(
                f'<section id="pairwise"><h2>{escape(plot.title)}</h2>{pairwise_html(compared)}'
                f'<p class="legend">{inline_code(plot.caption)} Hover a cell for its p-value; the same '
                'matrix as a figure: <a href="figures/pairwise.png">figures/pairwise.png</a>.</p></section>'
            )
            continue
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
<style>{STYLE}</style>
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
<details class="run"><summary>The run's configuration (run.json)</summary>
<pre>{details}</pre>
</details>
</section>
<script>{SCRIPT}</script>
</body>
</html>
"""
