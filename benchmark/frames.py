"""Result rows -> tables: the results frame, the leaderboard, comparisons, and the CSV files' columns.

Inside the harness a decoder's name is ``decoder``, its top-1 imagine
accuracy ``imagine_accuracy`` and whether it is ranked ``ranked``: in the
result rows (in memory, ``tasks.jsonl`` and the task files; old journals'
names are mapped on read by :func:`benchmark.journal.current_names`) and in
the frames alike. MOABB's names come back only in the files written for
MOABB (:func:`results_csv`: ``results.csv``, ``results_all.csv``);
``leaderboard.csv`` keeps its ``eligible`` column (:func:`leaderboard_csv`),
and the simulation studies' per-task files their ``pipeline``, ``eligible``
and ``score`` (:func:`task_csv`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchmark import stats
from benchmark.journal import OLD_ROW_FIELDS
from datasets.layout import CLASS_NAMES

#: MOABB's result columns (``moabb.analysis``), in its order, first in results.csv.
MOABB_COLUMNS = [
    "score", "time", "samples", "subject", "session", "channels", "n_sessions", "dataset", "pipeline",
    "samples_test", "n_classes",
]  # fmt: skip

#: The results frame's column -> MOABB's, in results.csv and results_all.csv.
MOABB_NAMES = {"decoder": "pipeline", "imagine_accuracy": "score"}
#: MOABB's column -> the results frame's.
_FROM_MOABB = {moabb: ours for ours, moabb in MOABB_NAMES.items()}
#: A result row's field -> its column in the per-task CSV files of the simulation studies: the
#: names rows were first stored with, the inverse of :data:`benchmark.journal.OLD_ROW_FIELDS`.
TASK_CSV_NAMES = {new: old for old, new in OLD_ROW_FIELDS.items()}

#: Columns of the results frame, in the files' order (MOABB's first, under the harness's names).
RESULT_COLUMNS = [
    *(_FROM_MOABB.get(c, c) for c in MOABB_COLUMNS), "family", "ranked", "split", "balanced_accuracy",
    "top3", "localizer_accuracy",
    "fit_time", "predict_time", "wall_time", "peak_memory_mb", "n_imagine", "n_correct", "p_binomial",
    "p_permutation", "p_permutation_balanced", "p_permutation_top3", "status", "error",
]  # fmt: skip


#: Significance level of per-subject tests and of the "tied with the best" group.
ALPHA = 0.05


_LIST_KEYS = ("proba", "trial_idx", "y_true", "evidence_curve", "evidence_times")


def subject_statistics(row: dict, seed: int = 0) -> dict:
    """Per-subject p-values of one train row (see :func:`benchmark.stats.subject_stats`).

    Rows without stored true labels (older runs) get the binomial p-value from
    their score and trial count, and NaN permutation p-values.
    """
    if row.get("status") != "ok" or row.get("split") != "train":
        return {}
    if row.get("y_true") is not None and row.get("proba") is not None:
        out = stats.subject_stats(
            np.asarray(row["proba"]), np.asarray(row["y_true"]), seed=stats.derive_seed(seed, row["subject"])
        )
        return {k: v for k, v in out.items() if k.startswith(("p_", "n_"))}
    n, accuracy = row.get("n_imagine"), row.get("imagine_accuracy")
    if n and accuracy is not None and np.isfinite(accuracy):
        hits = int(round(accuracy * n))
        chance = stats.CHANCE_LEVELS["imagine_accuracy"]
        return {"n_correct": hits, "p_binomial": stats.binomial_p(hits, int(n), chance)}
    return {}


def results_frame(rows: Sequence[dict], dataset: str, seed: int = 0) -> pd.DataFrame:
    """Long-format results, one row per task (without the per-trial lists).

    Adds the per-subject statistics of train rows: ``n_correct``,
    ``p_binomial`` and the label-permutation p-values.
    """
    records = []
    for r in rows:
        record = {k: v for k, v in r.items() if k not in _LIST_KEYS and not isinstance(v, list | dict)}
        record.update(subject_statistics(r, seed))
        records.append(record)
    frame = pd.DataFrame(records)
    frame["dataset"] = dataset
    frame["session"] = "imagine"
    frame["n_sessions"] = 1
    frame["samples"] = frame.get("n_localizer", np.nan)
    frame["samples_test"] = frame.get("n_imagine", np.nan)
    frame["n_classes"] = len(CLASS_NAMES)
    if "ranked" in frame:
        frame["ranked"] = frame["ranked"].astype(bool)
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra].sort_values(["decoder", "subject"], ignore_index=True)


def results_csv(results: pd.DataFrame) -> pd.DataFrame:
    """Return the results frame with the columns of ``results.csv`` and ``results_all.csv``.

    ``decoder`` and ``imagine_accuracy`` are written as MOABB's ``pipeline``
    and ``score`` (:data:`MOABB_NAMES`), the MOABB-compatible boundary;
    ``eligible`` repeats ``ranked`` beside it, as the files always had.
    """
    frame = results.rename(columns=MOABB_NAMES)
    frame.insert(frame.columns.get_loc("ranked") + 1, "eligible", frame["ranked"])
    return frame


def leaderboard_csv(board: pd.DataFrame) -> pd.DataFrame:
    """Return the leaderboard with the columns of ``leaderboard.csv`` (``ranked`` written ``eligible``)."""
    return board.rename(columns={"ranked": "eligible"})


def task_csv(results: pd.DataFrame) -> pd.DataFrame:
    """Return a simulation study's task rows with the columns of its per-task CSV file.

    ``simulation.csv`` and ``robustness-subjects.csv`` keep the names they
    were first written with (:data:`TASK_CSV_NAMES`: ``pipeline``,
    ``eligible``, ``score``).
    """
    return results.rename(columns=TASK_CSV_NAMES)


def _train_ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[(results["status"] == "ok") & (results["split"] == "train")]


def moabb_results(results: pd.DataFrame) -> pd.DataFrame:
    """Select the rows :mod:`moabb.analysis` can take: ranked decoders, train subjects, finite scores.

    MOABB's statistics refuse any non-finite score ("score data must contain
    only finite values"): test subjects (no labels), failed tasks and the
    unranked decoders (the oracle reads the simulation's truth) stay in
    ``results_all.csv``.
    """
    train = _train_ok(results)
    keep = train["ranked"].astype(bool) & np.isfinite(train["imagine_accuracy"].to_numpy(dtype=float))
    return train[keep].reset_index(drop=True)


def comparisons(results: pd.DataFrame, seed: int = 0) -> stats.Comparisons:
    """Pairwise comparisons of the ranked decoders on imagine accuracy."""
    train = _train_ok(results)
    ranked = results.groupby("decoder")["ranked"].first().astype(bool)
    names = sorted(n for n in train["decoder"].unique() if ranked.get(n, False))
    return stats.compare_decoders(stats.paired_scores(train, names, "imagine_accuracy"), seed=seed)


def _inputs_digest(group: pd.DataFrame) -> str:
    """Digest of a decoder's task cache keys: equal digests mean unchanged inputs."""
    if "key" not in group or group["key"].isna().any():
        return ""
    return hashlib.sha256("".join(sorted(group["key"].astype(str))).encode()).hexdigest()[:16]


def leaderboard(
    results: pd.DataFrame, seed: int = 0, compared: stats.Comparisons | None = None
) -> pd.DataFrame:
    """Rank decoders by mean imagine accuracy over train subjects.

    Decoders with ``ranked=False`` are listed without a rank. Group
    statistics use each metric's own chance level
    (:data:`benchmark.stats.CHANCE_LEVELS`); ``tied_with_best`` marks the
    decoders whose imagine accuracy is not significantly below the best one's
    (paired sign-flip test, Holm-corrected, alpha 0.05).
    """
    if compared is None:
        compared = comparisons(results, seed)
    tied = set(compared.tied_with_best(ALPHA))
    decidable = compared.can_separate_from_best(ALPHA)
    entries = []
    for name, group in results.groupby("decoder", sort=True):
        ok = group[group["status"] == "ok"]
        train = _train_ok(group)
        acc = stats.group_stats(
            train["imagine_accuracy"].to_numpy(), stats.CHANCE_LEVELS["imagine_accuracy"], seed=seed
        )
        bal = stats.group_stats(
            train["balanced_accuracy"].to_numpy(), stats.CHANCE_LEVELS["balanced_accuracy"], seed=seed
        )
        top3 = stats.group_stats(train["top3"].to_numpy(), stats.CHANCE_LEVELS["top3"], seed=seed)
        status = group["status"].value_counts()
        p_sub = train["p_binomial"].to_numpy(dtype=float)
        entries.append(
            {
                "decoder": name,
                "family": group["family"].iloc[0],
                "ranked": bool(group["ranked"].iloc[0]),
                "imagine_accuracy": acc.mean,
                "ci_low": acc.ci_low,
                "ci_high": acc.ci_high,
                "median": acc.median,
                "p_vs_chance": acc.p_ttest,
                "p_wilcoxon": acc.p_wilcoxon,
                "p_signflip": acc.p_signflip,
                "balanced_accuracy": bal.mean,
                "p_balanced": bal.p_ttest,
                "top3": top3.mean,
                "p_top3": top3.p_ttest,
                "n_subjects": acc.n,
                "n_significant": int(np.sum(p_sub <= ALPHA)),
                # undecidable (too few subjects): neither tied nor separated
                "tied_with_best": (name in tied) if decidable else None,
                "p_vs_best": compared.tied_p.get(name, np.nan),
                "localizer_accuracy": ok["localizer_accuracy"].mean(),
                "fit_time_s": ok["fit_time"].mean(),
                "predict_time_s": ok["predict_time"].mean(),
                "total_time_s": group["wall_time"].sum(),
                "peak_memory_mb": ok["peak_memory_mb"].max(),
                "status": ", ".join(f"{k} {v}" for k, v in sorted(status.items())),
                "inputs": _inputs_digest(group),
            }
        )
    board = pd.DataFrame(entries)
    if board.empty:
        return board
    board = board.sort_values(
        ["ranked", "imagine_accuracy", "decoder"], ascending=[False, False, True], na_position="last"
    )
    ranks = board["ranked"] & board["imagine_accuracy"].notna()
    board.insert(0, "rank", np.where(ranks, np.cumsum(ranks), 0))
    board["rank"] = board["rank"].map(lambda r: str(r) if r else "-")
    return board.reset_index(drop=True)


def statistics_notes(compared: stats.Comparisons, board: pd.DataFrame, alpha: float = ALPHA) -> list[str]:
    """Sentences saying which group tests cannot reach significance with this many subjects.

    Parameters
    ----------
    compared : Comparisons
        The ranked decoders' pairwise comparisons.
    board : DataFrame
        The leaderboard (for the number of subjects per decoder).
    alpha : float
        Significance level.

    Returns
    -------
    list of str
        Empty when every test shown can reach ``alpha``.
    """
    notes = []
    n = compared.n_subjects
    k = len(compared.decoders)
    if compared.best is not None and not compared.can_separate_from_best(alpha):
        need = stats.min_subjects_for_sign_flip(k - 1, alpha)
        notes.append(
            f"With {n} subjects, no decoder can be found significantly below the best: the smallest "
            f"p-value the sign-flip test can reach, Holm-corrected over the {k - 1} comparisons with the "
            f"best, is {compared.min_p_tied:.3g} > {alpha} (it needs at least {need} subjects). The = "
            "marks are therefore left out: here a tie cannot be told from a difference."
        )
    if k >= 2 and n >= 2 and not compared.can_separate_pairs(alpha):
        pairs = k * (k - 1) // 2
        need = stats.min_subjects_for_sign_flip(pairs, alpha, two_sided=True)
        notes.append(
            f"No pair of the pairwise comparisons can be significant with {n} subjects: the smallest "
            f"two-sided p-value, Holm-corrected over {pairs} pairs, is {compared.min_p_pairwise:.3g} "
            f"(at least {need} subjects needed)."
        )
    if len(board) and board["n_subjects"].max() > 0:
        n_max = int(board["n_subjects"].max())
        if stats.smallest_sign_flip_p(n_max) > alpha:
            notes.append(
                f"With {n_max} subjects the exact sign-flip test against chance cannot reach p <= "
                f"{alpha} (smallest p {stats.smallest_sign_flip_p(n_max):.3g}); only the t-test can."
            )
    return notes


def pairwise_frame(compared: stats.Comparisons) -> pd.DataFrame:
    """Long table of the pairwise comparisons (one row per ordered pair)."""
    rows = [
        {
            "decoder_a": a,
            "decoder_b": b,
            "n_subjects": compared.n_subjects,
            "mean_diff": compared.mean_diff.loc[a, b],
            "p_a_better": compared.p_greater.loc[a, b],
            "p_holm_two_sided": compared.p_holm.loc[a, b],
        }
        for a in compared.decoders
        for b in compared.decoders
        if a != b
    ]
    return pd.DataFrame(
        rows, columns=["decoder_a", "decoder_b", "n_subjects", "mean_diff", "p_a_better", "p_holm_two_sided"]
    )


def time_courses(rows: Sequence[dict], seed: int = 0) -> dict:
    """Evidence curves of train subjects per decoder, with their cluster test.

    Returns
    -------
    dict of str to benchmark.figures.TimeCourse
        Only decoders whose rows carry ``evidence_curve`` (those with
        ``imagine_time_course``); curves of another length than the decoder's
        first are left out.
    """
    from benchmark.figures import TimeCourse

    grouped: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("status") == "ok" and row.get("split") == "train" and row.get("evidence_curve"):
            grouped.setdefault(row["decoder"], []).append(row)
    courses = {}
    for name in sorted(grouped):
        times = np.asarray(grouped[name][0]["evidence_times"], dtype=float)
        curves = np.array(
            [r["evidence_curve"] for r in grouped[name] if len(r["evidence_curve"]) == len(times)]
        )
        clusters = stats.cluster_test(curves, times, seed=seed)
        courses[name] = TimeCourse(times, curves, clusters)
    return courses


def confusion_counts(rows: Sequence[dict]) -> dict[str, np.ndarray]:
    """Count imagine confusions per decoder, train subjects pooled.

    Returns
    -------
    dict of str to ndarray of int, shape (n_classes, n_classes)
        True classes in rows, predicted (most probable) in columns, in
        ``CLASS_NAMES`` order.
    """
    k = len(CLASS_NAMES)
    counts: dict[str, np.ndarray] = {}
    for row in rows:
        if row.get("status") != "ok" or row.get("y_true") is None or row.get("proba") is None:
            continue
        y = np.asarray(row["y_true"], dtype=int)
        pred = np.asarray(row["proba"], dtype=float).argmax(axis=1)
        matrix = counts.setdefault(row["decoder"], np.zeros((k, k), dtype=int))
        np.add.at(matrix, (y, pred), 1)
    return dict(sorted(counts.items()))
