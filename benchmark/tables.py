"""Display rows of the leaderboard, shared by the Markdown and the HTML reports.

Pure formatting of an already computed leaderboard frame: numbers to
strings, the legend that explains them, the dataset's display name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.config import RunConfig

#: ``dataset`` value of results.csv for simulated and for real data.
DATASET_NAMES = {True: "imagine-simulated", False: "imagine"}


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{100 * x:.1f}"


def _num(x: float, fmt: str = ".2f") -> str:
    return "-" if pd.isna(x) else format(x, fmt)


def is_true(value) -> bool:
    """Return True for a true boolean, False for False, None or NaN (an undecided tie)."""
    return isinstance(value, bool | np.bool_) and bool(value)


def leaderboard_table(board: pd.DataFrame) -> list[dict[str, str]]:
    """Format the leaderboard's display rows (shared by Markdown and HTML)."""
    return [
        {
            "rank": r["rank"] + (" =" if is_true(r["tied_with_best"]) else ""),
            "decoder": r["decoder"],
            "family": r["family"],
            "imagine acc. % [95 % CI]": (
                f"{_pct(r['imagine_accuracy'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"
            ),
            "p (> 10 %)": _num(r["p_vs_chance"], ".3g"),
            "balanced %": _pct(r["balanced_accuracy"]),
            "top-3 %": _pct(r["top3"]),
            "subjects p<=.05": f"{r['n_significant']}/{r['n_subjects']}",
            "localizer %": _pct(r["localizer_accuracy"]),
            "fit s": _num(r["fit_time_s"]),
            "predict s": _num(r["predict_time_s"]),
            "memory MB": _num(r["peak_memory_mb"], ".0f"),
            "status": r["status"],
        }
        for _, r in board.iterrows()
    ]


def leaderboard_legend(run_info: dict) -> str:
    """Return the leaderboard's legend, with the run's own localizer cross-validation.

    Parameters
    ----------
    run_info : dict
        The run's ``run.json`` (its ``config.localizer_folds`` is read; runs
        that did not record it are described with the default of
        :class:`benchmark.config.RunConfig`).

    Returns
    -------
    str
        One paragraph (markdown).
    """
    folds = run_info.get("config", {}).get("localizer_folds", RunConfig.localizer_folds)
    localizer = (
        f"Localizer: shared stratified {int(folds)}-fold CV, ranked decoders only (an oracle's "
        "localizer accuracy says nothing about it)."
        if folds
        else "Localizer: not cross-validated in this run (--localizer-folds 0)."
    )
    return (
        "Imagine accuracy: mean over train subjects of top-1 accuracy on the imagine trials "
        "(chance 10 %), 95 % bootstrap (BCa) interval over subjects, one-sided t-test against chance "
        "(Wilcoxon and exact sign-flip p-values in leaderboard.csv). Balanced: Hungarian assignment under "
        "each subject's class counts (chance 10 %). Top-3: chance 30 %. Subjects p<=.05: train subjects "
        "significant on their own (exact binomial test against 10 %). = after the rank: not significantly "
        "below the best decoder (paired sign-flip test on per-subject accuracy, Holm-corrected, alpha 0.05). "
        f"{localizer} Fit and predict times are means per subject; memory is the "
        "peak over subjects. Decoders ranked - are not ranked (the oracle reads the simulation's truth)."
    )
