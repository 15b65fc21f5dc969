"""The robustness matrix as a heat map, with the transfer ceiling on top."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from benchmark.figures.base import text_color

logger = logging.getLogger(__name__)


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
                color = text_color(cmap(norm(value)))
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
