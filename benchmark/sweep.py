"""Transfer-strength sweep on simulated data: how accuracy depends on alpha.

For each imagery transfer weight ``alpha`` (the share of the visual class
pattern in the imagery response), a simulated dataset is generated (cached
like the default one), the decoders run on its train subjects, and the
imagine accuracies are collected into ``simulation.md``, ``simulation.csv``
and ``simulation.png`` (accuracy vs alpha per decoder, with the oracle and
chance lines and 95 % t intervals over subjects).

One cell of the sweep (:func:`run_cell`: one simulated dataset, its decoders)
is also the unit of the robustness matrix (:mod:`benchmark.robustness`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.config import RunConfig
from benchmark.experiment import run_benchmark
from benchmark.frames import task_csv
from benchmark.scoring import summarize
from datasets.layout import CHANCE

logger = logging.getLogger(__name__)

#: Columns of a sweep's rows (one per task).
COLUMNS = [
    "alpha", "decoder", "ranked", "subject", "imagine_accuracy", "n_imagine", "localizer_accuracy", "status",
]  # fmt: skip


def run_sweep(
    alphas: Sequence[float],
    out: Path,
    *,
    decoders: Sequence[str] | None = None,
    simulation: dict | None = None,
    run: dict | None = None,
    home: Path | None = None,
) -> pd.DataFrame:
    """Run decoders on simulated datasets across transfer strengths.

    Parameters
    ----------
    alphas : sequence of float
        Transfer weights in [0, 1].
    out : Path
        Folder of the sweep report; each alpha's full reports go to
        ``out/sweep/alpha-<alpha>/``.
    decoders : sequence of str or None
        Decoder names (None: all, the oracle included).
    simulation : dict or None
        Overrides of :class:`datasets.simulate.SimulationConfig` (default: 4
        train subjects, no test subjects).
    run : dict or None
        Overrides of :class:`benchmark.config.RunConfig` (e.g. ``n_jobs``,
        ``localizer_folds``, ``seed``, ``progress``).
    home : Path or None
        Cache folder of the simulated datasets.

    Returns
    -------
    DataFrame
        One row per (alpha, decoder, train subject): ``alpha, decoder,
        ranked, subject, imagine_accuracy, n_imagine, localizer_accuracy, status``.
    """
    from datasets.simulate import SimulationConfig

    frames = []
    for alpha in alphas:
        sim = SimulationConfig(**{"n_train": 4, "n_test": 0, **(simulation or {}), "alpha": float(alpha)})
        frame, _ = run_cell(
            sim, Path(out) / "sweep" / f"alpha-{alpha:g}", decoders=decoders, run=run, home=home
        )
        frame.insert(0, "alpha", float(alpha))
        frames.append(frame.reindex(columns=COLUMNS))
        logger.info("alpha=%g done: %d tasks", alpha, len(frame))
    results = pd.concat(frames, ignore_index=True)
    write_sweep_report(results, Path(out))
    return results


def run_cell(
    sim,
    out: Path,
    *,
    decoders: Sequence[str] | None = None,
    run: dict | None = None,
    home: Path | None = None,
) -> tuple[pd.DataFrame, Path]:
    """Run decoders on the train subjects of one simulated dataset (generated once, cached).

    Parameters
    ----------
    sim : datasets.simulate.SimulationConfig
        The dataset.
    out : Path
        Report folder of this run (the tables and the page, task cache,
        ``tasks.jsonl``; no figures: the sweep's and the matrix's own reports
        draw theirs).
    decoders : sequence of str or None
        Decoder names (None: all).
    run : dict or None
        Overrides of :class:`benchmark.config.RunConfig`. Its ``fit_cache``
        is ``out``'s parent's ``fits`` folder unless set: the cells beside
        ``out`` (one regime at other transfer weights) hold the same
        localizers, so a decoder fitted on them in one cell is reused by the
        others (:mod:`benchmark.fits`; ``run={"fit_cache": None}`` fits in
        every cell).
    home : Path or None
        Cache folder of the simulated datasets, and of their memory-mapped
        arrays (``<home>/arrays``, as ``python -m benchmark run`` uses them;
        ``run={"data_cache": None}`` reads the FIF files in every task).

    Returns
    -------
    frame : DataFrame
        The result rows of the train subjects.
    root : Path
        The dataset root.
    """
    from datasets.default import array_cache_dir, default_dataset
    from datasets.parallel import fill_cache

    n_jobs = (run or {}).get("n_jobs", 1)
    root = default_dataset(sim, home, n_jobs=n_jobs)
    config = RunConfig(
        **{
            "data": root,
            "out": Path(out),
            "decoders": tuple(decoders) if decoders else None,
            "progress": False,
            "data_cache": array_cache_dir(home),
            "fit_cache": Path(out).parent / "fits",
            **(run or {}),
        }
    )
    if config.data_cache is not None:  # the subjects' first reads, in parallel (else one by one in the run)
        fill_cache(root, config.data_cache, n_jobs)
    summary = run_benchmark(config, draw_figures=False)  # the sweep's and the matrix's reports draw them
    frame = pd.DataFrame(summary.rows)
    return frame[frame["split"] == "train"].reset_index(drop=True), root


def sweep_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean imagine accuracy and 95 % t interval per (decoder, alpha)."""
    rows = []
    for (name, alpha), group in results[results["status"] == "ok"].groupby(["decoder", "alpha"]):
        summary = summarize(group["imagine_accuracy"].to_numpy(), CHANCE)
        rows.append(
            {
                "decoder": name,
                "ranked": bool(group["ranked"].iloc[0]),
                "alpha": alpha,
                "mean": summary.mean,
                "ci_low": summary.ci_low,
                "ci_high": summary.ci_high,
                "p_vs_chance": summary.p_ttest,
                "localizer": group["localizer_accuracy"].mean(),
                "n_subjects": summary.n,
            }
        )
    return pd.DataFrame(rows)


def sweep_figure(table: pd.DataFrame):
    """Imagine accuracy vs alpha per decoder (matplotlib Figure, no pyplot state)."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    names = sorted(table["decoder"].unique())
    colors = [colormaps["tab20"](i % 20) for i in range(len(names))]
    for name, color in zip(names, colors, strict=True):
        part = table[table["decoder"] == name].sort_values("alpha")
        oracle = not part["ranked"].iloc[0]
        err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
        ax.errorbar(
            part["alpha"], 100 * part["mean"], yerr=100 * np.nan_to_num(err), label=name, capsize=2,
            color="black" if oracle else color, linestyle="--" if oracle else "-", marker="o", markersize=3,
        )  # fmt: skip
    ax.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance")
    ax.set_xlabel("imagery transfer weight alpha")
    ax.set_ylabel("imagine accuracy (%)")
    ax.legend(fontsize=7, ncols=2)
    return fig


def write_sweep_report(results: pd.DataFrame, out: Path) -> None:
    """Write ``simulation.csv`` (columns: :func:`benchmark.frames.task_csv`), ``.md``, ``.png`` in ``out``."""
    from tabulate import tabulate

    out.mkdir(parents=True, exist_ok=True)
    task_csv(results).to_csv(out / "simulation.csv", index=False)
    table = sweep_table(results)
    sweep_figure(table).savefig(out / "simulation.png", dpi=90)
    wide = table.assign(
        cell=lambda t: [
            f"{100 * m:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
            for m, lo, hi in zip(t["mean"], t["ci_low"], t["ci_high"], strict=True)
        ]
    ).pivot(index="decoder", columns="alpha", values="cell")
    wide.columns = [f"alpha={a:g}" for a in wide.columns]
    text = (
        "# Simulation sweep\n\n"
        "Imagine accuracy (%) over simulated train subjects, mean [95 % t interval], by imagery "
        "transfer weight alpha (0: imagery shares nothing with perception; 1: imagery reuses the "
        "perceptual class patterns). Chance is 10 %. `oracle` knows the true imagery patterns and "
        "onsets: the ceiling at this SNR, not a competitor.\n\n"
        + tabulate(wide.reset_index(), headers="keys", tablefmt="github", showindex=False)
        + "\n\n![accuracy vs alpha](simulation.png)\n"
    )
    (out / "simulation.md").write_text(text)


def simulation_overrides(**values) -> dict:
    """Keep only the SimulationConfig fields given (None means: default)."""
    from datasets.simulate import SimulationConfig

    names = {f.name for f in dataclasses.fields(SimulationConfig)}
    return {k: v for k, v in values.items() if v is not None and k in names}
