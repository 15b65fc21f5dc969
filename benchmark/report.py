"""Turn result rows into the report files.

Files written into the output folder:

``results.csv``
    One row per (decoder, subject), long format with MOABB's columns
    (``score, time, samples, subject, session, channels, n_sessions, dataset,
    pipeline``) plus ours.
``leaderboard.csv`` / ``leaderboard.md``
    One row per decoder, ranked by mean imagine accuracy over train subjects.
``runtime.md``
    Fit and predict time and peak memory per decoder.
``submissions/<decoder>.csv``
    Kaggle submission (``ID,label``) for the test subjects.
``run.json``
    Configuration, package versions, git revision, dataset fingerprint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.scoring import summarize
from datasets.layout import CHANCE, CLASS_NAMES, submission_id

logger = logging.getLogger(__name__)

RESULT_COLUMNS = [
    "score", "time", "samples", "subject", "session", "channels", "n_sessions", "dataset",
    "pipeline", "family", "eligible", "split", "balanced_accuracy", "top3", "localizer_accuracy",
    "fit_time", "predict_time", "wall_time", "peak_memory_mb", "n_imagine", "status", "error",
]  # fmt: skip


def results_frame(rows: Sequence[dict], dataset: str) -> pd.DataFrame:
    """Long-format results, one row per task (without the probabilities)."""
    frame = pd.DataFrame([{k: v for k, v in r.items() if k not in ("proba", "trial_idx")} for r in rows])
    frame["dataset"] = dataset
    frame["session"] = "imagine"
    frame["n_sessions"] = 1
    frame["samples"] = frame.get("n_localizer", np.nan)
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    return frame[RESULT_COLUMNS].sort_values(["pipeline", "subject"], ignore_index=True)


def leaderboard(results: pd.DataFrame) -> pd.DataFrame:
    """Rank decoders by mean imagine accuracy over train subjects.

    Decoders with ``eligible=False`` are listed without a rank.
    """
    entries = []
    for name, group in results.groupby("pipeline", sort=True):
        ok = group[group["status"] == "ok"]
        train = ok[ok["split"] == "train"]
        acc = summarize(train["score"].to_numpy(), CHANCE)
        status = group["status"].value_counts()
        entries.append(
            {
                "decoder": name,
                "family": group["family"].iloc[0],
                "eligible": bool(group["eligible"].iloc[0]),
                "imagine_accuracy": acc.mean,
                "ci_low": acc.ci_low,
                "ci_high": acc.ci_high,
                "p_vs_chance": acc.p_ttest,
                "p_wilcoxon": acc.p_wilcoxon,
                "balanced_accuracy": train["balanced_accuracy"].mean(),
                "top3": train["top3"].mean(),
                "n_subjects": acc.n,
                "localizer_accuracy": ok["localizer_accuracy"].mean(),
                "fit_time_s": ok["fit_time"].mean(),
                "predict_time_s": ok["predict_time"].mean(),
                "total_time_s": group["wall_time"].sum(),
                "peak_memory_mb": ok["peak_memory_mb"].max(),
                "status": ", ".join(f"{k} {v}" for k, v in sorted(status.items())),
            }
        )
    board = pd.DataFrame(entries)
    if board.empty:
        return board
    board = board.sort_values(
        ["eligible", "imagine_accuracy", "decoder"], ascending=[False, False, True], na_position="last"
    )
    ranks = board["eligible"] & board["imagine_accuracy"].notna()
    board.insert(0, "rank", np.where(ranks, np.cumsum(ranks), 0))
    board["rank"] = board["rank"].map(lambda r: str(r) if r else "-")
    return board.reset_index(drop=True)


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{100 * x:.1f}"


def leaderboard_markdown(board: pd.DataFrame, run_info: dict) -> str:
    """Render the leaderboard as Markdown (tabulate)."""
    from tabulate import tabulate

    table = [
        {
            "rank": r["rank"],
            "decoder": r["decoder"],
            "family": r["family"],
            "imagine acc. % [95 % CI]": f"{_pct(r['imagine_accuracy'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]",
            "p (> 10 %)": "-" if pd.isna(r["p_vs_chance"]) else f"{r['p_vs_chance']:.3g}",
            "balanced %": _pct(r["balanced_accuracy"]),
            "top-3 %": _pct(r["top3"]),
            "localizer %": _pct(r["localizer_accuracy"]),
            "fit s": "-" if pd.isna(r["fit_time_s"]) else f"{r['fit_time_s']:.2f}",
            "status": r["status"],
        }
        for _, r in board.iterrows()
    ]
    header = (
        "# Leaderboard\n\n"
        f"Dataset `{run_info.get('dataset', '?')}` (fingerprint `{run_info.get('fingerprint', '?')}`), "
        f"seed {run_info.get('config', {}).get('seed', '?')}, code `{run_info.get('git_revision', '?')}`.\n"
        "Imagine accuracy: mean over train subjects of top-1 accuracy on the imagine trials "
        "(chance 10 %), 95 % t interval over subjects, one-sided t-test against chance. "
        "Balanced: Hungarian assignment under each subject's class counts. Localizer: shared "
        "stratified 5-fold CV. Decoders marked `-` are not eligible for ranking.\n\n"
    )
    return header + tabulate(table, headers="keys", tablefmt="github") + "\n"


def runtime_markdown(results: pd.DataFrame) -> str:
    """Per-decoder fit/predict time and peak memory, as Markdown."""
    from tabulate import tabulate

    agg = (
        results.groupby("pipeline")
        .agg(
            tasks=("subject", "size"),
            fit_mean_s=("fit_time", "mean"),
            fit_max_s=("fit_time", "max"),
            predict_mean_s=("predict_time", "mean"),
            task_total_s=("wall_time", "sum"),
            peak_memory_mb=("peak_memory_mb", "max"),
        )
        .reset_index()
        .rename(columns={"pipeline": "decoder"})
    )
    return (
        "# Runtime\n\nPer (decoder, subject) task: fit and predict on the full localizer / imagine "
        "epochs; the total includes the shared localizer cross-validation and data loading. "
        "Peak memory is Python-traced allocation (tracemalloc), numpy arrays included.\n\n"
        + tabulate(agg, headers="keys", tablefmt="github", floatfmt=".2f", showindex=False)
        + "\n"
    )


def submission_frame(rows: Sequence[dict], decoder: str) -> pd.DataFrame:
    """Kaggle rows ``ID,label`` of one decoder's test-subject predictions."""
    records = []
    for row in rows:
        if row["pipeline"] != decoder or row.get("split") != "test" or row["status"] != "ok":
            continue
        labels = np.asarray(CLASS_NAMES)[np.asarray(row["proba"]).argmax(axis=1)]
        records += [
            {"ID": submission_id(row["subject"], i), "label": lab}
            for i, lab in zip(row["trial_idx"], labels)
        ]
    return pd.DataFrame(records, columns=["ID", "label"])


def write_reports(rows: Sequence[dict], out: Path, run_info: dict) -> pd.DataFrame:
    """Write every report file into ``out`` and return the leaderboard."""
    out.mkdir(parents=True, exist_ok=True)
    results = results_frame(rows, run_info.get("dataset", ""))
    results.to_csv(out / "results.csv", index=False)
    board = leaderboard(results)
    board.to_csv(out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(leaderboard_markdown(board, run_info))
    (out / "runtime.md").write_text(runtime_markdown(results))
    submissions = out / "submissions"
    submissions.mkdir(exist_ok=True)
    for decoder in sorted(results["pipeline"].unique()):
        frame = submission_frame(rows, decoder)
        if len(frame):
            frame.to_csv(submissions / f"{decoder}.csv", index=False)
    (out / "run.json").write_text(json.dumps(run_info, indent=2, default=str) + "\n")
    logger.info("reports written to %s", out)
    return board
