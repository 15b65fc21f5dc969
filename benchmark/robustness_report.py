"""Write the robustness matrix's report: ``robustness.md``, ``.csv``, ``-subjects.csv`` and ``.png``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.frames import task_csv
from benchmark.robustness_tables import (
    CEILING,
    CEILING_P,
    POWER_TIMING_ORACLE,
    TIMING_ORACLE,
    decoder_families,
    gap_table,
    induced_only_regimes,
    induced_regimes,
    merged_hyperparameters,
    robustness_table,
    targets,
    which_decoder_table,
)
from datasets.layout import CHANCE


def _decoder_order(table: pd.DataFrame) -> list[str]:
    """Ranked decoders by mean margin fraction (best first), then the non-ranked ones."""
    ranked = table[table["ranked"]].groupby("decoder")["margin_fraction"].mean().sort_values(ascending=False)
    others = sorted(set(table.loc[~table["ranked"], "decoder"]))
    return [*ranked.index, *[d for d in others if d not in ranked.index]]


def robustness_figure(table: pd.DataFrame):
    """Heat maps: pooled accuracy with the ceiling, and fraction of the ceiling's margin (a Figure).

    Drawn by :func:`benchmark.figures.robustness_heatmap` (a scale centred on
    chance and spanning the data; regimes named above their alphas).
    """
    from benchmark.figures import robustness_heatmap

    return robustness_heatmap(table, _decoder_order(table), CEILING, chance=CHANCE)


def write_robustness_report(
    results: pd.DataFrame,
    out: Path,
    *,
    hyperparameters: dict[str, dict[str, str]] | None = None,
    timings: pd.DataFrame | None = None,
    settings: dict | None = None,
) -> pd.DataFrame:
    """Write ``robustness.md``, ``robustness.csv``, ``robustness-subjects.csv`` and ``robustness.png``.

    Parameters
    ----------
    results : DataFrame
        Rows of :func:`run_robustness`.
    out : Path
        Report folder.
    hyperparameters : dict or None
        Regime -> decoder -> parameters (:func:`decoder_hyperparameters`);
        printed once, with a check that every regime gave the same.
    timings : DataFrame or None
        Wall time per cell.
    settings : dict or None
        Simulation and run settings, recorded in the report.

    Returns
    -------
    DataFrame
        The table written to ``robustness.csv`` (whose ``eligible`` column is
        its ``ranked``; ``robustness-subjects.csv``'s columns:
        :func:`benchmark.frames.task_csv`).
    """
    from tabulate import tabulate

    from benchmark import provenance

    out.mkdir(parents=True, exist_ok=True)
    task_csv(results).to_csv(out / "robustness-subjects.csv", index=False)
    table = robustness_table(results)
    table.rename(columns={"ranked": "eligible"}).to_csv(out / "robustness.csv", index=False)
    robustness_figure(table).savefig(out / "robustness.png", dpi=110)
    order = _decoder_order(table)

    def wide(values: str, fmt) -> str:
        frame = table.assign(
            cell=[fmt(v) for v in table[values]],
            column=[f"{r} α={a:g}" for r, a in zip(table["regime"], table["alpha"], strict=True)],
        ).pivot(index="decoder", columns="column", values="cell")
        frame = frame.reindex(
            index=order,
            columns=list(
                dict.fromkeys(f"{r} α={a:g}" for r, a in zip(table["regime"], table["alpha"], strict=True))
            ),
        )
        return tabulate(frame.reset_index(), headers="keys", tablefmt="github", showindex=False)

    def pct(v: float) -> str:
        return "" if not np.isfinite(v) else f"{100 * v:.1f}"

    def frac(v: float) -> str:
        return "–" if not np.isfinite(v) else f"{v:.2f}"

    at_zero = table[table["alpha"] == 0.0]
    p_table = ""
    if len(at_zero):
        zero = at_zero.pivot(index="decoder", columns="regime", values="p_binomial").reindex(index=order)
        zero = zero.reindex(columns=list(dict.fromkeys(at_zero["regime"])))
        p_table = tabulate(
            zero.map(
                lambda p: "" if not np.isfinite(p) else (f"**{p:.1e}**" if p <= 0.001 else f"{p:.2f}")
            ).reset_index(),
            headers="keys",
            tablefmt="github",
            showindex=False,
        )
    families = decoder_families(order)
    which = which_decoder_table(table, families)
    which_text = []
    if len(which):
        which_text = [
            "## Which decoder for which brain (alpha 1)",
            "",
            "Each regime is a hypothesis about how imagery carries the item: an evoked (phase-locked) "
            "code, an induced one (oscillatory power with a random phase on every trial), or both; "
            "sustained, brief or repeated; on tSSS (rank ~70) or full-rank sensors. `best`: the ranked "
            "decoder with the largest fraction of the ceiling's margin; then the best fraction reached "
            "by each family. On real data, the family that wins speaks for the hypothesis of the regime "
            "where it wins here.",
            "",
            tabulate(which.fillna(""), headers="keys", tablefmt="github", showindex=False),
            "",
        ]
    lines = [
        "# Robustness matrix",
        "",
        "Every decoder on every simulation regime (`datasets/regimes.py`, see `docs/robustness.md`) at "
        "imagery transfer weights alpha (0: imagery shares nothing with perception; 1: imagery reuses the "
        f"localizer patterns). Accuracy is pooled over the imagine trials of the simulated train subjects; "
        f"chance is {100 * CHANCE:.0f} %. `{CEILING}` is the transfer ceiling: the whitened matched "
        "filter of the true localizer patterns over each trial's true imagery interval, the best a "
        "localizer-trained decoder could do if it knew when imagery happens. `oracle` knows the true "
        "imagery patterns and envelopes. Neither is ranked. Where the class code includes induced "
        "power, the ceiling also knows each class's induced topography and band and scores each trial "
        "by the log power of the matched spatial filter over its true imagery interval (both kinds of "
        "evidence z-scored over the batch and added in the mixed regimes); `oracle` knows only the "
        "evoked code.",
        "",
        *which_text,
        "## Imagine accuracy (%)",
        "",
        wide("accuracy", pct),
        "",
        "## Fraction of the transfer ceiling's margin above chance",
        "",
        f"(accuracy − {CHANCE:g}) / (ceiling − {CHANCE:g}); 1 = the ceiling, 0 = chance; – where the "
        f"ceiling is not above chance at p < {CEILING_P:g} (expected at alpha 0, where the visual pattern "
        "is absent from imagery).",
        "",
        wide("margin_fraction", frac),
        "",
    ]
    if p_table:
        lines += [
            "## At alpha 0: one-sided binomial p over the pooled trials",
            "",
            "No transfer means no decodable imagery: a ranked decoder with p <= 0.001 here (bold) leaks "
            "labels or exploits something other than the class pattern.",
            "",
            p_table,
            "",
        ]
    power_gaps = gap_table(table, "csp-lda", POWER_TIMING_ORACLE)
    power_gaps = power_gaps[power_gaps["regime"].isin(induced_regimes())]
    if len(power_gaps):
        shown = power_gaps.assign(alpha=[f"{a:g}" for a in power_gaps["alpha"]]).round(2)
        shown = shown.rename(columns={"decoder_fraction": "csp_lda_fraction"})
        lines += [
            "## Where the gap to the ceiling goes in the induced regimes (csp-lda)",
            "",
            f"`{POWER_TIMING_ORACLE}` is `csp-lda` with its evidence averaged over each trial's true "
            "imagery interval: `timing_share` = what not knowing when imagery happens costs the power "
            "decoder, `classifier_share` = what its localizer-trained classifier loses at the right time.",
            "",
            tabulate(shown, headers="keys", tablefmt="github", showindex=False),
            "",
        ]
    gaps = gap_table(table)
    gaps = gaps[~gaps["regime"].isin(induced_only_regimes())]
    if len(gaps):
        shown = gaps.assign(alpha=[f"{a:g}" for a in gaps["alpha"]]).round(2)
        lines += [
            "## Where the gap to the ceiling goes (lda-peak)",
            "",
            f"`{TIMING_ORACLE}` is `lda-peak` with its evidence averaged over each trial's true imagery "
            "interval (simulation only, not ranked). Shares of the ceiling's margin: `timing_share` = "
            f"`{TIMING_ORACLE}` − `lda-peak`, what not knowing when imagery happens costs (a better "
            f"label-free pooling could win it back); `classifier_share` = 1 − `{TIMING_ORACLE}`, what the "
            "localizer-trained classifier loses even at the right time (no pooling can).",
            "",
            tabulate(shown, headers="keys", tablefmt="github", showindex=False),
            "",
        ]
    checks = targets(table, families)
    if checks:
        lines += [
            "## Issues 12 and 23 targets, as measured",
            "",
            tabulate(checks, headers=["target", "regime", "result"], tablefmt="github"),
            "",
        ]
    lines += ["![robustness heat map](robustness.png)", ""]
    if hyperparameters:
        first, differ = merged_hyperparameters(hyperparameters)
        same = not differ
        lines += [
            "## Decoder hyperparameters (one set for every regime)",
            "",
            "Each decoder's factory, given a context built from the data (sampling rate, time axes, channel "
            "types, seed) and nothing about the regime: "
            + (
                "identical in every regime."
                if same
                else "**they differ between regimes**: " + ", ".join(differ)
            ),
            "",
            *[f"- `{name}`: `{text}`" for name, text in first.items()],
            "",
        ]
    if timings is not None and len(timings):
        total = float(timings["wall_time_s"].sum())
        per_alpha = timings.groupby("alpha", sort=True)["wall_time_s"].sum()
        lines += [
            f"## Run\n\n{len(timings)} cells, {int(timings['tasks'].sum())} tasks, {total / 60:.1f} min wall "
            "(simulation included; cached datasets and tasks are reused). By alpha: "
            + ", ".join(f"{a:g}: {v / 60:.1f} min" for a, v in per_alpha.items())
            + " (a decoder fits once per distinct localizer, in the first cell that holds it; the others "
            "reuse the fit, docs/robustness.md).",
            "",
        ]
    if settings:
        lines += ["Settings: `" + json.dumps(settings, default=str, sort_keys=True) + "`", ""]
    versions = ", ".join(f"{k} {v}" for k, v in provenance.package_versions().items())
    lines += [f"Code revision {provenance.git_revision()}; {versions}.", ""]
    (out / "robustness.md").write_text("\n".join(lines))
    return table
