"""Figures comparing decoders: the pairwise matrix, per-subject paired views, effect sizes."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from benchmark import stats
from benchmark.figures.base import CHANCE_COLOR, decoder_colors, text_color

logger = logging.getLogger(__name__)


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
            color = text_color(image.cmap(norm(diff[i, j])))
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
    wide = train.pivot_table(index="subject", columns="decoder", values="imagine_accuracy", aggfunc="mean")
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
    wide = train.pivot_table(index="subject", columns="decoder", values="imagine_accuracy", aggfunc="mean")
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
