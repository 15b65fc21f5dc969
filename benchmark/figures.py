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
from collections.abc import Mapping
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


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def subject_scores(results: pd.DataFrame, order: list[str], seed: int = 0) -> Figure | None:
    """Strip plot of per-subject scores per decoder, with mean, CI and chance line."""
    train = results[(results["status"] == "ok") & (results["split"] == "train")]
    if train.empty or not order:
        return None
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(4 + 0.9 * len(order), 9), layout="constrained")
    axes = fig.subplots(len(_METRICS), 1, sharex=True)
    colors = _colors(len(order))
    for ax, (metric, label) in zip(axes, _METRICS, strict=True):
        chance = stats.CHANCE_LEVELS[metric]
        for i, name in enumerate(order):
            values = train.loc[train["pipeline"] == name, metric].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            jitter = rng.uniform(-0.18, 0.18, values.size)
            ax.scatter(i + jitter, 100 * values, s=18, color=colors[i], alpha=0.7, linewidths=0)
            ax.plot([i - 0.3, i + 0.3], [100 * values.mean()] * 2, color="black", linewidth=2)
        ax.axhline(
            100 * chance, color="firebrick", linestyle="--", linewidth=1, label=f"chance {100 * chance:.0f} %"
        )
        ax.set_ylabel(f"{label} (%)")
        ax.legend(loc="upper right", fontsize=8, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(range(len(order)), order, rotation=30, ha="right")
    axes[0].set_title("Per train subject (dots) and mean over subjects (bar)")
    return fig


def time_courses(courses: Mapping[str, TimeCourse], alpha: float = 0.05) -> Figure | None:
    """Imagine evidence curves (mean +/- SEM over subjects) with significant clusters shaded."""
    courses = {k: v for k, v in courses.items() if v.curves.size}
    if not courses:
        return None
    fig = Figure(figsize=(9, 2.4 * len(courses) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(courses), 1, sharex=True, squeeze=False)[:, 0])
    for ax, (name, course), color in zip(axes, courses.items(), _colors(len(courses)), strict=True):
        mean = course.curves.mean(axis=0)
        n = course.curves.shape[0]
        sem = course.curves.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
        ax.fill_between(course.times, mean - sem, mean + sem, color=color, alpha=0.25, linewidth=0)
        ax.plot(course.times, mean, color=color, linewidth=1.5, label=f"{name} (n = {n})")
        ax.axhline(0, color="firebrick", linestyle="--", linewidth=1)
        ax.axvline(0, color="grey", linewidth=0.8)
        for cluster in course.clusters:
            if cluster.p <= alpha:
                ax.axvspan(cluster.tmin, cluster.tmax, color="gold", alpha=0.35, linewidth=0)
        ax.set_ylabel("true - other\nevidence")
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    axes[-1].set_xlabel("imagine time (s)")
    axes[0].set_title(f"Evidence for the imagined item (shaded: cluster p <= {alpha})")
    return fig


def confusion_matrices(matrices: Mapping[str, np.ndarray], classes: tuple[str, ...]) -> Figure | None:
    """Row-normalised confusion matrix per decoder (true rows, predicted columns)."""
    if not matrices:
        return None
    n = len(matrices)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(4.2 * ncols, 4.0 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    image = None
    ticks = range(len(classes))
    rates_max = max((m / np.maximum(m.sum(axis=1, keepdims=True), 1)).max() for m in matrices.values())
    vmax = max(20.0, 100 * rates_max)  # one colour scale for every panel
    for index, (ax, (name, counts)) in enumerate(zip(axes, matrices.items(), strict=False)):
        totals = counts.sum(axis=1, keepdims=True)
        rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        image = ax.imshow(100 * rates, vmin=0, vmax=vmax, cmap="viridis")
        ax.set_title(f"{name} ({int(counts.sum())} trials)", fontsize=9)
        # item names on the outer panels only (tick labels dominate the drawing time)
        bottom, left = index + ncols >= n, index % ncols == 0
        ax.set_xticks(ticks, classes if bottom else [], rotation=90, fontsize=7)
        ax.set_yticks(ticks, classes if left else [], fontsize=7)
        if bottom:
            ax.set_xlabel("predicted", fontsize=8)
        if left:
            ax.set_ylabel("imagined", fontsize=8)
    for ax in axes[n:]:
        ax.set_axis_off()
    if image is not None:
        fig.colorbar(image, ax=list(axes[:n]), shrink=0.6, label="% of the row's trials")
    return fig


def pairwise_matrix(compared: stats.Comparisons, alpha: float = 0.05) -> Figure | None:
    """Mean accuracy difference (row minus column) with Holm-corrected p-values."""
    k = len(compared.decoders)
    if k < 2 or compared.n_subjects < 2:
        return None
    diff = 100 * compared.mean_diff.to_numpy(dtype=float)
    limit = max(1.0, np.nanmax(np.abs(diff)))
    fig = Figure(figsize=(2.5 + 0.9 * k, 1.8 + 0.8 * k), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(diff, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            p = compared.p_holm.iat[i, j]
            mark = "*" if p <= alpha else ""
            ax.text(j, i, f"{diff[i, j]:+.1f}{mark}\np={p:.2g}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(k), compared.decoders, rotation=30, ha="right")
    ax.set_yticks(range(k), compared.decoders)
    ax.set_title(f"Row minus column, imagine accuracy (points), {compared.n_subjects} subjects")
    fig.colorbar(image, ax=ax, label="difference (% points)")
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
    ax_mem.set_xlabel("peak traced memory (MB)")
    return fig


def render_png(fig: Figure, path: Path | None = None, dpi: int = 90) -> bytes:
    """PNG bytes of ``fig`` (no timestamp in the file), also written to ``path``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    data = buffer.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


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
) -> list[Plot]:
    """Draw every report figure, write ``folder/<name>.png`` and return them."""
    folder.mkdir(parents=True, exist_ok=True)
    order = board["decoder"].tolist() if not board.empty else []
    specs = [
        ("subject_scores", "Per-subject scores", "Each dot is one train subject; the dashed line is the "
         "metric's chance level (10 % top-1 and balanced, 30 % top-3).",
         lambda: subject_scores(results, order, seed)),
        ("time_courses", "Imagine time courses", "Mean over train subjects (band: SEM) of the true item's "
         "evidence minus the other items' mean, for decoders with imagine_time_course; shaded: clusters "
         "above 0 in a one-sided cluster permutation test.", lambda: time_courses(courses)),
        ("confusion", "Confusion matrices", "Imagine trials of all train subjects pooled; rows sum to 100 %.",
         lambda: confusion_matrices(confusions, classes)),
        ("pairwise", "Pairwise comparisons", "Mean per-subject difference in imagine accuracy (row minus "
         "column); p: paired sign-flip test, two-sided, Holm-corrected over all pairs; * p <= 0.05.",
         lambda: pairwise_matrix(compared)),
        ("runtime", "Runtime", "Fit and predict time per subject (mean over subjects, symlog scale) and "
         "peak traced memory.", lambda: runtime_bars(board)),
    ]  # fmt: skip
    plots = []
    for name, title, caption, draw in specs:
        fig = draw()
        if fig is None:
            logger.info("figure %s skipped: nothing to draw", name)
            continue
        plots.append(Plot(name, title, caption, render_png(fig, folder / f"{name}.png")))
    return plots
