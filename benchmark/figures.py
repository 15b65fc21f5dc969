"""Report figures, drawn on :class:`matplotlib.figure.Figure` objects.

Nothing here touches pyplot or matplotlib's global state (``rcParams`` are
read, never written; ``moabb.analysis.plotting`` is not imported because
importing it restyles matplotlib globally). Every function returns a Figure,
or None when there is nothing to draw; :func:`write_figures` renders them to
PNG files and returns the bytes for embedding in ``index.html``.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from benchmark import stats

logger = logging.getLogger(__name__)

_METRICS = (
    ("score", "imagine accuracy"),
    ("balanced_accuracy", "balanced-assignment accuracy"),
    ("top3", "top-3 accuracy"),
)


@dataclass(frozen=True)
class TimeCourse:
    """Evidence curves of one decoder over imagine time.

    Attributes
    ----------
    times : ndarray, shape (n_times,)
        Imagine time of each sample (s).
    curves : ndarray, shape (n_subjects, n_times)
        Per train subject: mean over trials of true-class evidence minus the
        mean evidence of the other classes (0 = chance).
    clusters : list of benchmark.stats.Cluster
        Clusters from :func:`benchmark.stats.cluster_test`.
    """

    times: np.ndarray
    curves: np.ndarray
    clusters: list


@dataclass(frozen=True)
class Plot:
    """One rendered figure."""

    name: str
    title: str
    caption: str
    png: bytes


#: Colour of every chance line and chance mark.
CHANCE_COLOR = "firebrick"


#: Distinct colours for decoders: Kelly's colours of maximum contrast (no white), most distinct first.
PALETTE = (
    "#0067A5", "#F38400", "#008856", "#BE0032", "#875692", "#882D17", "#E68FAC", "#848482", "#8DB600",
    "#A1CAF1", "#F3C300", "#604E97", "#F99379", "#2B3D26", "#B3446C", "#DCD300", "#654522", "#E25822",
    "#C2B280", "#222222", "#F6A600",
)  # fmt: skip


def decoder_colors(names) -> dict[str, str]:
    """One distinct colour per decoder, the same in every figure of a report.

    Names are sorted, so a decoder keeps its colour whatever the ranking;
    beyond the :data:`PALETTE`'s 21 colours, evenly spaced hues follow.
    """
    from matplotlib.colors import hsv_to_rgb, to_hex

    names = sorted(set(names))
    extra = len(names) - len(PALETTE)
    colors = list(PALETTE[: len(names)])
    if extra > 0:
        hues = (np.arange(extra) / extra + 0.03) % 1.0
        colors += [to_hex(hsv_to_rgb((h, 0.65, 0.75 if k % 2 else 0.55))) for k, h in enumerate(hues)]
    return dict(zip(names, colors, strict=True))


def _colors(n: int) -> list:
    """``n`` distinct colours (the first ``n`` of :func:`decoder_colors`)."""
    return list(decoder_colors([f"{i:04d}" for i in range(n)]).values())


def _strip(ax, train: pd.DataFrame, names: list[str], metric: str, colors: list, rng) -> None:
    """Dots per subject, mean bar and 95 % bootstrap CI per decoder on one axis."""
    for i, name in enumerate(names):
        values = train.loc[train["pipeline"] == name, metric].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        jitter = rng.uniform(-0.18, 0.18, values.size)
        ax.scatter(i + jitter, 100 * values, s=16, color=colors[i], alpha=0.75, linewidths=0, zorder=2)
        low, high = stats.bootstrap_ci(values, n_resamples=1999, seed=0)
        if np.isfinite(low) and np.isfinite(high):
            ax.vlines(i + 0.3, 100 * low, 100 * high, color="black", linewidth=1.2, zorder=3)
        ax.plot([i - 0.3, i + 0.3], [100 * values.mean()] * 2, color="black", linewidth=2, zorder=3)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.grid(axis="y", alpha=0.3)


def subject_scores(
    results: pd.DataFrame,
    order: list[str],
    seed: int = 0,
    unranked: frozenset[str] = frozenset(),
    colors: Mapping[str, str] | None = None,
) -> Figure | None:
    """Strip plot of per-subject scores per decoder, with mean, 95 % CI and chance line.

    Ranked decoders share the left axes; unranked ones (the oracle, whose
    scores would squash everyone else's) get their own axes on the right.
    """
    train = results[(results["status"] == "ok") & (results["split"] == "train")]
    if train.empty or not order:
        return None
    from matplotlib.lines import Line2D

    rng = np.random.default_rng(seed)
    ranked = [n for n in order if n not in unranked]
    apart = [n for n in order if n in unranked]
    groups = [g for g in (ranked, apart) if g]
    colors = colors or decoder_colors(order)
    widths = [max(len(g), 1) + 0.6 for g in groups]
    fig = Figure(figsize=(max(8.0, 3 + 0.5 * len(order)), 9), layout="constrained")
    axes = np.asarray(
        fig.subplots(len(_METRICS), len(groups), squeeze=False, gridspec_kw={"width_ratios": widths})
    )
    for row, (metric, label) in enumerate(_METRICS):
        chance = stats.CHANCE_LEVELS[metric]
        for col, names in enumerate(groups):
            ax = axes[row, col]
            _strip(ax, train, names, metric, [colors[n] for n in names], rng)
            ax.axhline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=1, zorder=1)
            if col == 0:
                ax.set_ylabel(f"{label} (%)")
            if row == len(_METRICS) - 1:
                ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=10)
            else:
                ax.set_xticks(range(len(names)), [])
            if row == 0:
                ax.set_title("ranked decoders" if names is ranked else "not ranked\n(own scale)", fontsize=11)
    handles = [
        Line2D([], [], marker="o", linestyle="", color="grey", label="one train subject"),
        Line2D([], [], color="black", linewidth=2, label="mean over subjects"),
        Line2D([], [], color="black", linewidth=1.2, label="95 % bootstrap CI of the mean"),
        Line2D([], [], color=CHANCE_COLOR, linestyle="--", label="chance (10 %; top-3: 30 %)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=11, frameon=False)
    return fig


def time_courses(
    courses: Mapping[str, TimeCourse], alpha: float = 0.05, colors: Mapping[str, str] | None = None
) -> Figure | None:
    """Imagine evidence curves (mean +/- SEM over subjects) with significant clusters shaded."""
    courses = {k: v for k, v in courses.items() if v.curves.size}
    if not courses:
        return None
    fig = Figure(figsize=(9, 1.9 * len(courses) + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(courses), 1, sharex=True, squeeze=False)[:, 0])
    colors = colors or decoder_colors(courses)
    for ax, (name, course) in zip(axes, courses.items(), strict=True):
        color = colors[name]
        mean = course.curves.mean(axis=0)
        n = course.curves.shape[0]
        sem = course.curves.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
        ax.fill_between(course.times, mean - sem, mean + sem, color=color, alpha=0.25, linewidth=0)
        ax.plot(course.times, mean, color=color, linewidth=1.5, label=f"{name} (n = {n})")
        ax.axhline(0, color=CHANCE_COLOR, linestyle="--", linewidth=1, label="chance (0)")
        ax.axvline(0, color="grey", linewidth=0.8)
        for cluster in course.clusters:
            if cluster.p <= alpha:
                ax.axvspan(cluster.tmin, cluster.tmax, color="gold", alpha=0.35, linewidth=0)
        ax.set_ylabel("true - other\nevidence")
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    axes[-1].set_xlabel("imagine time (s)")
    axes[0].set_title(f"Evidence for the imagined item (shaded: cluster p <= {alpha})")
    return fig


def confusion_matrices(
    matrices: Mapping[str, np.ndarray], classes: tuple[str, ...], chance: float = 0.1
) -> Figure | None:
    """Row-normalised confusion matrix per decoder (true rows, predicted columns).

    The panels share one diverging colour scale centred on ``chance``
    (white): red above chance, blue below, its top set by the highest rate
    among them (at least twice ``chance``). Draw unranked decoders (the
    oracle) in a separate call so that their rates do not set the scale of
    the others.
    """
    if not matrices:
        return None
    from matplotlib.colors import TwoSlopeNorm

    n = len(matrices)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(3.6 * ncols + 1.2, 3.4 * nrows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    image = None
    ticks = range(len(classes))
    rates_max = max((m / np.maximum(m.sum(axis=1, keepdims=True), 1)).max() for m in matrices.values())
    vmax = max(200 * chance, 100 * rates_max)  # one colour scale for every panel
    norm = TwoSlopeNorm(vmin=0, vcenter=100 * chance, vmax=vmax)
    for index, (ax, (name, counts)) in enumerate(zip(axes, matrices.items(), strict=False)):
        totals = counts.sum(axis=1, keepdims=True)
        rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        image = ax.imshow(100 * rates, norm=norm, cmap="RdBu_r")
        ax.set_title(f"{name} ({int(counts.sum())} trials)", fontsize=10)
        # item names on the outer panels only (tick labels dominate the drawing time)
        bottom, left = index + ncols >= n, index % ncols == 0
        ax.set_xticks(ticks, classes if bottom else [], rotation=90, fontsize=8)
        ax.set_yticks(ticks, classes if left else [], fontsize=8)
        if bottom:
            ax.set_xlabel("predicted", fontsize=9)
        if left:
            ax.set_ylabel("imagined", fontsize=9)
    for ax in axes[n:]:
        ax.set_axis_off()
    if image is not None:
        label = f"% of the row's trials (chance {100 * chance:.0f} %)"
        bar = fig.colorbar(image, ax=list(axes[:n]), shrink=0.8 if nrows == 1 else 0.6, label=label)
        step = 5 if vmax <= 40 else 10 if vmax <= 80 else 20
        bar.set_ticks(sorted({0.0, 100 * chance, *np.arange(step, vmax + 1e-9, step)}))
        bar.ax.axhline(100 * chance, color="black", linewidth=1)
    return fig


def _text_color(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba`` (WCAG luminance)."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "black" if luminance > 0.179 else "white"


def pairwise_matrix(compared: stats.Comparisons, alpha: float = 0.05) -> Figure | None:
    """Mean accuracy difference (row minus column); * marks Holm-corrected p <= ``alpha``."""
    k = len(compared.decoders)
    if k < 2 or compared.n_subjects < 2:
        return None
    from matplotlib.colors import Normalize

    diff = 100 * compared.mean_diff.to_numpy(dtype=float)
    limit = max(1.0, np.nanmax(np.abs(diff)))
    decidable = compared.can_separate_pairs(alpha)
    fontsize = 10 if k <= 10 else 8
    fig = Figure(figsize=(3.0 + 0.6 * k, 2.2 + 0.5 * k), layout="constrained")
    ax = fig.subplots()
    norm = Normalize(-limit, limit)
    image = ax.imshow(diff, cmap="RdBu_r", norm=norm)
    for i in range(k):
        for j in range(k):
            if i == j or not np.isfinite(diff[i, j]):
                continue
            significant = compared.p_holm.iat[i, j] <= alpha
            color = _text_color(image.cmap(norm(diff[i, j])))
            text = f"{diff[i, j]:+.0f}" + ("*" if significant else "")
            weight = "bold" if significant else "normal"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=color, fontweight=weight)
    ax.set_xticks(range(k), compared.decoders, rotation=40, ha="right", fontsize=fontsize)
    ax.set_yticks(range(k), compared.decoders, fontsize=fontsize)
    title = f"Row minus column, imagine accuracy (% points), {compared.n_subjects} subjects; * p <= {alpha}"
    if not decidable:
        title += f"\nno pair can reach p <= {alpha} with this many subjects"
    ax.set_title(title, fontsize=10)
    bar = fig.colorbar(image, ax=ax, label="difference (% points); 0: no difference")
    bar.ax.axhline(0, color=CHANCE_COLOR, linewidth=2)
    return fig


def paired_views(
    results: pd.DataFrame, order: list[str], colors: Mapping[str, str] | None = None, max_panels: int = 12,
    chance: float = 0.1,
) -> Figure | None:  # fmt: skip
    """Per-subject paired scores of the best decoder against each other ranked one (MOABB's paired plot).

    One panel per other decoder (the first ``max_panels`` of ``order``, the
    leaderboard's): each dot is a train subject, the best decoder's accuracy
    up, the other's across; above the diagonal the best one wins.
    """
    train = results[(results["status"] == "ok") & (results["split"] == "train")]
    wide = train.pivot_table(index="subject", columns="pipeline", values="score", aggfunc="mean")
    order = [n for n in order if n in wide]
    if len(order) < 2 or len(wide) < 2:
        return None
    colors = colors or decoder_colors(order)
    best, others = order[0], order[1 : max_panels + 1]
    ncols = min(4, len(others))
    nrows = int(np.ceil(len(others) / ncols))
    fig = Figure(figsize=(2.7 * ncols + 0.4, 2.8 * nrows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    values = 100 * wide[order].to_numpy(dtype=float)
    lo, hi = np.nanmin(values) - 3, np.nanmax(values) + 3
    for ax, other in zip(axes, others, strict=False):
        pair = 100 * wide[[other, best]].dropna()
        wins = int((pair[best] > pair[other]).sum())
        ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8)
        ax.axhline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=0.8)
        ax.axvline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=0.8)
        ax.scatter(pair[other], pair[best], s=22, color=colors[other], edgecolors="black", linewidths=0.4)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(f"{other} (%)", fontsize=9)
        ax.set_ylabel(f"{best} (%)", fontsize=9)
        ax.set_title(f"above the diagonal: {wins} of {len(pair)}", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[len(others) :]:
        ax.set_axis_off()
    return fig


def _smd(diffs: np.ndarray) -> tuple[float, float, float]:
    """Standardised mean difference ``d = mean / sd`` of paired differences and its approximate 95 % CI."""
    diffs = diffs[np.isfinite(diffs)]
    n = diffs.size
    if n < 2 or not np.std(diffs, ddof=1) > 0:
        return float("nan"), float("nan"), float("nan")
    d = float(diffs.mean() / diffs.std(ddof=1))
    half = 1.96 * np.sqrt(1 / n + d**2 / (2 * n))
    return d, d - half, d + half


def effect_sizes(
    results: pd.DataFrame, order: list[str], compared: stats.Comparisons, board: pd.DataFrame,
    chance: float = 0.1, alpha: float = 0.05,
) -> Figure | None:  # fmt: skip
    """Forest plot of standardised effects (MOABB's meta-analysis plot, per decoder).

    Left: each ranked decoder against chance (per-subject accuracy minus
    ``chance``); right: the best decoder against each other one (paired
    differences). A dot is the standardised mean difference ``d`` (mean
    over subjects divided by its SD), the line its approximate 95 % CI;
    filled dots are significant at ``alpha`` (exact sign-flip against
    chance; Holm-corrected one-sided against the best).
    """
    train = results[(results["status"] == "ok") & (results["split"] == "train")]
    wide = train.pivot_table(index="subject", columns="pipeline", values="score", aggfunc="mean")
    order = [n for n in order if n in wide]
    if not order or len(wide) < 2:
        return None
    p_chance = board.set_index("decoder")["p_signflip"] if "p_signflip" in board else pd.Series(dtype=float)
    best = compared.best if compared.best in wide else order[0]
    panels = [("each decoder\nagainst chance (10 %)", order, lambda n: wide[n].to_numpy(dtype=float) - chance,
               lambda n: p_chance.get(n, np.nan))]  # fmt: skip
    others = [n for n in order if n != best]
    if others:
        panels.append((f"{best}\nagainst each other decoder", others,
                       lambda n: (wide[best] - wide[n]).to_numpy(dtype=float),
                       lambda n: compared.tied_p.get(n, np.nan)))  # fmt: skip
    fig = Figure(figsize=(10, 1.3 + 0.32 * len(order)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), squeeze=False)[0])
    for ax, (title, names, diffs, pvalue) in zip(axes, panels, strict=True):
        y = np.arange(len(names))[::-1]
        for yi, name in zip(y, names, strict=True):
            d, low, high = _smd(diffs(name))
            if not np.isfinite(d):
                continue
            significant = pvalue(name) <= alpha
            ax.hlines(yi, low, high, color="black", linewidth=1)
            ax.plot(d, yi, marker="D", markersize=6, color="black" if significant else "white",
                    markeredgecolor="black")  # fmt: skip
        ax.axvline(0, color=CHANCE_COLOR, linestyle="--", linewidth=1)
        ax.set_yticks(y, names, fontsize=9)
        ax.set_xlabel("standardised mean difference d (95 % CI)", fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    return fig


def robustness_heatmap(
    table: pd.DataFrame, order: list[str], ceiling_name: str, chance: float = 0.1
) -> Figure | None:
    """Heat maps of a robustness run: pooled accuracy with the transfer ceiling, and the margin fraction.

    Columns are grouped by regime (named on top, separated by lines), with
    the transfer strengths below. Accuracy is on a diverging scale centred
    on ``chance`` (white) and spanning the data, not 0-100 %; the top row is
    the ceiling. The margin fraction is centred on 0 (chance) and capped at
    1 (the ceiling).

    Parameters
    ----------
    table : DataFrame
        ``robustness.csv`` rows: ``regime, alpha, decoder, accuracy, ceiling, margin_fraction``.
    order : list of str
        Decoders, top to bottom.
    ceiling_name : str
        The decoder whose accuracy is the ceiling (drawn as the top row, not again below).
    chance : float
        Chance accuracy.
    """
    if table.empty:
        return None
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm

    order = [d for d in order if d != ceiling_name]
    columns = list(dict.fromkeys(zip(table["regime"], table["alpha"], strict=True)))
    col = {c: j for j, c in enumerate(columns)}
    index = {d: i for i, d in enumerate(order)}
    acc = np.full((len(order) + 1, len(columns)), np.nan)
    frac = np.full((len(order), len(columns)), np.nan)
    for row in table.itertuples():
        j = col[(row.regime, row.alpha)]
        acc[0, j] = row.ceiling
        if row.decoder in index:
            acc[index[row.decoder] + 1, j] = row.accuracy
            frac[index[row.decoder], j] = row.margin_fraction
    acc = 100 * acc
    groups: list[tuple[str, int, int]] = []
    for j, (regime, _) in enumerate(columns):
        if groups and groups[-1][0] == regime:
            groups[-1] = (regime, groups[-1][1], j)
        else:
            groups.append((regime, j, j))
    finite = acc[np.isfinite(acc)]
    low = min(float(finite.min()) if finite.size else 0.0, 100 * chance - 1)
    high = max(float(finite.max()) if finite.size else 0.0, 100 * chance + 1)
    f_finite = frac[np.isfinite(frac)]
    f_low = min(float(f_finite.min()) if f_finite.size else 0.0, -0.25)
    panels = (
        (acc, [f"ceiling ({ceiling_name})", *order], "imagine accuracy (%), pooled trials; top row: the "
         f"transfer ceiling; white: chance ({100 * chance:.0f} %)", TwoSlopeNorm(100 * chance, low, high),
         "{:.0f}"),
        (frac, order, "fraction of the ceiling's margin above chance (0: chance, 1: the ceiling)",
         TwoSlopeNorm(0.0, f_low, 1.0), "{:.2f}"),
    )  # fmt: skip
    height = 0.3 * (2 * len(order) + 1) + 3.2
    fig = Figure(figsize=(max(8.0, 0.48 * len(columns) + 3.5), height), layout="constrained")
    axes = fig.subplots(2, 1, height_ratios=[len(order) + 1, len(order)])
    cmap = colormaps["RdBu_r"].with_extremes(bad="#e6e6e6")
    for ax, (values, labels, title, norm, fmt) in zip(axes, panels, strict=True):
        image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, norm=norm)
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                color = _text_color(cmap(norm(value)))
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7, color=color)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_xticks(range(len(columns)), [f"{a:g}" for _, a in columns], fontsize=8)
        ax.set_xlabel("transfer strength α", fontsize=8)
        top = ax.secondary_xaxis("top")
        top.set_xticks([(a + b) / 2 for _, a, b in groups], [g for g, _, _ in groups], fontsize=8)
        top.tick_params(length=0)
        for _, _, last in groups[:-1]:
            ax.axvline(last + 0.5, color="black", linewidth=1.2)
        if values is acc:
            ax.axhline(0.5, color="black", linewidth=1.5)
        ax.set_title(title, fontsize=9)
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        if values is frac:
            bar.set_ticks(np.arange(np.ceil(f_low * 4) / 4, 1.0 + 1e-9, 0.25))
        else:
            step = 5 if high <= 40 else 10
            bar.set_ticks(sorted({100 * chance, *np.arange(np.ceil(low / step) * step, high + 1e-9, step)}))
    return fig


def runtime_bars(board: pd.DataFrame) -> Figure | None:
    """Mean fit and predict time per subject, and peak memory, per decoder."""
    if board.empty:
        return None
    names = board["decoder"].tolist()[::-1]
    y = np.arange(len(names))
    fig = Figure(figsize=(10, 1.2 + 0.4 * len(names)), layout="constrained")
    ax_time, ax_mem = fig.subplots(1, 2, sharey=True)
    fit = board["fit_time_s"].to_numpy(dtype=float)[::-1]
    predict = board["predict_time_s"].to_numpy(dtype=float)[::-1]
    ax_time.barh(y - 0.2, np.nan_to_num(fit), height=0.4, label="fit")
    ax_time.barh(y + 0.2, np.nan_to_num(predict), height=0.4, label="predict")
    if np.nanmax(np.r_[fit, predict, 0]) > 0:
        ax_time.set_xscale("symlog", linthresh=0.01)
    ax_time.set_yticks(y, names)
    ax_time.set_xlabel("seconds per subject (mean)")
    ax_time.legend(fontsize=8, frameon=False)
    ax_mem.barh(y, np.nan_to_num(board["peak_memory_mb"].to_numpy(dtype=float)[::-1]), color="grey")
    ax_mem.set_xlabel("peak resident memory added per task (RSS, MB)")
    return fig


def history(
    frame: pd.DataFrame, chance: float = 0.1, colors: Mapping[str, str] | None = None
) -> Figure | None:
    """Imagine accuracy of each decoder over the runs of ``history.csv``.

    Ranked decoders on the left axis; unranked ones (the oracle) on their own
    axis on the right, so they do not set the scale. Needs at least one run.
    """
    if frame is None or frame.empty:
        return None
    frame = frame.copy()
    frame["run"] = pd.to_datetime(frame["run_utc"], utc=True, errors="coerce")
    frame = frame.dropna(subset=["run"]).sort_values("run")
    if frame.empty:
        return None
    ranked_mask = frame["ranked"].astype(str).str.lower().isin(["true", "1"])
    groups = [(g, title) for g, title in ((frame[ranked_mask], "ranked decoders"),
              (frame[~ranked_mask], "not ranked (own scale)")) if not g.empty]  # fmt: skip
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    axes = np.atleast_1d(
        fig.subplots(1, len(groups), squeeze=False, gridspec_kw={"width_ratios": [3, 1][: len(groups)]})[0]
    )
    for ax, (group, title) in zip(axes, groups, strict=True):
        names = sorted(group["decoder"].unique())
        shared = colors if colors and set(names) <= set(colors) else decoder_colors(frame["decoder"])
        for name in names:
            color = shared[name]
            rows = group[group["decoder"] == name]
            ax.plot(rows["run"], 100 * rows["imagine_accuracy"], marker="o", markersize=3, color=color,
                    linewidth=1.2, label=name)  # fmt: skip
        ax.axhline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=1,
                   label=f"chance level ({100 * chance:.0f} %)")  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("imagine accuracy (%)")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    return fig


def render_png(fig: Figure, dpi: int = 90) -> bytes:
    """PNG bytes of ``fig`` (no timestamp in the file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def write_figures(
    results: pd.DataFrame,
    board: pd.DataFrame,
    compared: stats.Comparisons,
    courses: Mapping[str, TimeCourse],
    confusions: Mapping[str, np.ndarray],
    folder: Path,
    *,
    classes: tuple[str, ...],
    seed: int = 0,
    history_frame: pd.DataFrame | None = None,
    n_jobs: int = 1,
) -> list[Plot]:
    """Draw every report figure, write ``folder/<name>.png`` and return them.

    ``n_jobs`` processes draw them (:func:`draw_pngs`); the files are the
    same for any value.
    """
    folder.mkdir(parents=True, exist_ok=True)
    order = board["decoder"].tolist() if not board.empty else []
    unranked = frozenset(board.loc[~board["eligible"].astype(bool), "decoder"]) if len(board) else frozenset()
    ranked_conf = {k: v for k, v in confusions.items() if k not in unranked}
    unranked_conf = {k: v for k, v in confusions.items() if k in unranked}
    ranked = [n for n in order if n not in unranked]
    known = {*order, *courses, *(history_frame["decoder"] if history_frame is not None else [])}
    colors = decoder_colors(known)  # one colour per decoder in every figure
    chance_note = "dashed red line: chance"
    specs = [
        ("subject_scores", "Per-subject scores", "Each dot is one train subject; black bar: mean over "
         "subjects; vertical line: its 95 % bootstrap interval; dashed red line: the metric's chance level "
         "(10 % top-1 and balanced, 30 % top-3). Decoders that are not ranked (the oracle) are drawn on "
         "their own scale on the right.",
         lambda: subject_scores(results, order, seed, unranked, colors)),
        ("paired", "Per-subject paired scores", "The best ranked decoder against each other ranked one, "
         "subject by subject (MOABB's paired plot): above the grey diagonal the best one scores higher; "
         "dashed red lines: chance (10 %).",
         lambda: paired_views(results, ranked, colors)),
        ("effect_sizes", "Effect sizes", "Standardised mean differences d (mean over train subjects divided "
         "by their SD) with approximate 95 % intervals, in the manner of MOABB's meta-analysis plot. Left: "
         "each ranked decoder against chance; right: the best decoder against each other one. Filled: "
         "significant at p <= 0.05 (exact sign-flip against chance; against the best, one-sided and "
         "Holm-corrected); dashed red line: no effect.",
         lambda: effect_sizes(results, ranked, compared, board)),
        ("time_courses", "Imagine time courses", "Mean over train subjects (band: SEM) of the true item's "
         "evidence minus the other items' mean, for decoders with imagine_time_course; 0 (dashed red) is "
         "chance; shaded: clusters above 0 in a one-sided cluster permutation test.",
         lambda: time_courses(courses, colors=colors)),
        ("confusion", "Confusion matrices", "Imagine trials of all train subjects pooled; rows sum to 100 %; "
         "one diverging colour scale for the ranked decoders, centred on chance (10 %, white): red cells "
         "are predicted more often than chance, blue ones less.",
         lambda: confusion_matrices(ranked_conf, classes)),
        ("confusion_unranked", "Confusion matrices, not ranked", "Decoders that are not ranked (the oracle "
         "reads the simulation's truth), on their own scale, centred on chance (10 %, white).",
         lambda: confusion_matrices(unranked_conf, classes)),
        ("pairwise", "Pairwise comparisons", "Mean per-subject difference in imagine accuracy (row minus "
         "column, % points) among the ranked decoders; * and bold: paired sign-flip test, two-sided, "
         "Holm-corrected over all pairs, p <= 0.05 (every p in pairwise.csv).",
         lambda: pairwise_matrix(compared)),
        ("runtime", "Runtime", "Fit and predict time per subject (mean over subjects, symlog scale) and "
         "the peak resident memory (RSS) a task added. Chance has no meaning here.",
         lambda: runtime_bars(board)),
        ("history", "History", f"Imagine accuracy of each decoder over the runs recorded in history.csv "
         f"(one point per nightly run); {chance_note}.", lambda: history(history_frame, colors=colors)),
    ]  # fmt: skip
    pngs = draw_pngs({name: draw for name, _, _, draw in specs}, n_jobs=n_jobs)
    plots = []
    for name, title, caption, _ in specs:
        path = folder / f"{name}.png"
        if pngs[name] is None:
            logger.info("figure %s skipped: nothing to draw", name)
            path.unlink(missing_ok=True)
            continue
        path.write_bytes(pngs[name])
        plots.append(Plot(name, title, caption, pngs[name]))
    return plots


def _draw_png(draw: Callable[[], Figure | None]) -> bytes | None:
    fig = draw()
    return None if fig is None else render_png(fig)


def draw_pngs(draws: Mapping[str, Callable[[], Figure | None]], n_jobs: int = 1) -> dict[str, bytes | None]:
    """PNG bytes of every figure (None: nothing to draw), drawn by up to ``n_jobs`` processes.

    Drawing and rendering are CPU-bound and the report is the serial end of
    a run, so with ``n_jobs > 1`` (``-1``: one per core) forked processes,
    at most one per core, take the figures from a queue, one at a time, and
    send back bytes; they inherit the data. Without ``fork`` (Windows,
    macOS's default), or inside a daemonic process, the figures are drawn
    here, one after another. The bytes are the same either way.

    Parameters
    ----------
    draws : mapping of str to callable
        Figure name -> function returning a Figure or None.
    n_jobs : int
        Processes to draw in.

    Returns
    -------
    dict of str to bytes or None

    Raises
    ------
    RuntimeError
        If drawing a figure raises (the figure is named and its traceback
        given) or a drawing process dies.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    from benchmark.executor import effective_n_jobs

    names = list(draws)
    n_jobs = min(effective_n_jobs(n_jobs), os.cpu_count() or 1, len(names))
    if n_jobs <= 1 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return {name: _draw_png(draws[name]) for name in names}  # (a daemonic process has no children)
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    for name in [*names, *[None] * n_jobs]:
        queue.put(name)
    readers = {}
    try:
        for _ in range(n_jobs):
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_draw_from_queue, args=(draws, queue, send), daemon=True)
            child.start()
            send.close()
            readers[receive] = child
        pngs: dict[str, bytes | None] = {}
        while readers:
            for receive in wait(list(readers)):
                try:
                    message = receive.recv()
                except EOFError:  # the process is done, or died
                    child = readers.pop(receive)
                    child.join()
                    if child.exitcode != 0:
                        raise RuntimeError(
                            f"a process drawing the report figures died (exit code {child.exitcode})"
                        ) from None
                    continue
                if "error" in message:
                    raise RuntimeError(f"drawing the figure {message['name']!r} failed:\n{message['error']}")
                pngs[message["name"]] = message["png"]
    finally:
        for child in readers.values():
            child.kill()
            child.join()
    return {name: pngs[name] for name in names}


def _draw_from_queue(draws: Mapping[str, Callable[[], Figure | None]], queue, send) -> None:
    """Body of one drawing process: draw the queue's figures until it yields None."""
    try:
        while (name := queue.get()) is not None:
            try:
                send.send({"name": name, "png": _draw_png(draws[name])})
            except Exception:  # reported to the parent, which raises
                import traceback

                send.send({"name": name, "error": traceback.format_exc()})
                return
    finally:
        send.close()
