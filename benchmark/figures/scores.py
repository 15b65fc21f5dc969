"""Figures of scores: per-subject strips, imagine time courses, confusion matrices, runtimes, history."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from benchmark import stats
from benchmark.figures.base import CHANCE_COLOR, METRICS, TimeCourse, decoder_colors

logger = logging.getLogger(__name__)


def _strip(ax, train: pd.DataFrame, names: list[str], metric: str, colors: list, rng) -> None:
    """Dots per subject, mean bar and 95 % bootstrap CI per decoder on one axis."""
    for i, name in enumerate(names):
        values = train.loc[train["decoder"] == name, metric].to_numpy(dtype=float)
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
        fig.subplots(len(METRICS), len(groups), squeeze=False, gridspec_kw={"width_ratios": widths})
    )
    for row, (metric, label) in enumerate(METRICS):
        chance = stats.CHANCE_LEVELS[metric]
        for col, names in enumerate(groups):
            ax = axes[row, col]
            _strip(ax, train, names, metric, [colors[n] for n in names], rng)
            ax.axhline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=1, zorder=1)
            if col == 0:
                ax.set_ylabel(f"{label} (%)")
            if row == len(METRICS) - 1:
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
