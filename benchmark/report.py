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
``pairwise.csv``
    Every pair of ranked decoders: mean difference of per-subject imagine
    accuracy, one-sided and Holm-corrected two-sided sign-flip p-values.
``index.html`` and ``figures/*.png``
    One self-contained page (plots embedded) with the leaderboard, per-subject
    scores, imagine time courses, confusion matrices, the pairwise
    comparisons, runtimes, and the run's configuration and versions.
``submissions/<decoder>.csv``
    Kaggle submission (``ID,label``) for the test subjects.
``run.json``
    Configuration, package versions, git revision, dataset fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark import stats
from benchmark.errors import SubmissionError
from datasets.layout import CLASS_NAMES, submission_id

logger = logging.getLogger(__name__)

RESULT_COLUMNS = [
    "score", "time", "samples", "subject", "session", "channels", "n_sessions", "dataset",
    "pipeline", "family", "eligible", "split", "balanced_accuracy", "top3", "localizer_accuracy",
    "fit_time", "predict_time", "wall_time", "peak_memory_mb", "n_imagine", "n_correct", "p_binomial",
    "p_permutation", "p_permutation_balanced", "p_permutation_top3", "status", "error",
]  # fmt: skip

#: Significance level of per-subject tests and of the "tied with the best" group.
ALPHA = 0.05


_LIST_KEYS = ("proba", "trial_idx", "y_true", "evidence_curve", "evidence_times")


def _seed(run_info: dict) -> int:
    return int(run_info.get("config", {}).get("seed", 0) or 0)


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
    n, score = row.get("n_imagine"), row.get("score")
    if n and score is not None and np.isfinite(score):
        hits = int(round(score * n))
        return {"n_correct": hits, "p_binomial": stats.binomial_p(hits, int(n), stats.CHANCE_LEVELS["score"])}
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
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra].sort_values(["pipeline", "subject"], ignore_index=True)


def _train_ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[(results["status"] == "ok") & (results["split"] == "train")]


def comparisons(results: pd.DataFrame, seed: int = 0) -> stats.Comparisons:
    """Pairwise comparisons of the ranked (eligible) decoders on imagine accuracy."""
    train = _train_ok(results)
    eligible = results.groupby("pipeline")["eligible"].first().astype(bool)
    names = sorted(n for n in train["pipeline"].unique() if eligible.get(n, False))
    return stats.compare_decoders(stats.paired_scores(train, names, "score"), seed=seed)


def _inputs_digest(group: pd.DataFrame) -> str:
    """Digest of a decoder's task cache keys: equal digests mean unchanged inputs."""
    if "key" not in group or group["key"].isna().any():
        return ""
    return hashlib.sha256("".join(sorted(group["key"].astype(str))).encode()).hexdigest()[:16]


def leaderboard(
    results: pd.DataFrame, seed: int = 0, compared: stats.Comparisons | None = None
) -> pd.DataFrame:
    """Rank decoders by mean imagine accuracy over train subjects.

    Decoders with ``eligible=False`` are listed without a rank. Group
    statistics use each metric's own chance level
    (:data:`benchmark.stats.CHANCE_LEVELS`); ``tied_with_best`` marks the
    decoders whose imagine accuracy is not significantly below the best one's
    (paired sign-flip test, Holm-corrected, alpha 0.05).
    """
    if compared is None:
        compared = comparisons(results, seed)
    tied = set(compared.tied_with_best(ALPHA))
    entries = []
    for name, group in results.groupby("pipeline", sort=True):
        ok = group[group["status"] == "ok"]
        train = _train_ok(group)
        acc = stats.group_stats(train["score"].to_numpy(), stats.CHANCE_LEVELS["score"], seed=seed)
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
                "eligible": bool(group["eligible"].iloc[0]),
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
                "tied_with_best": name in tied,
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
        ["eligible", "imagine_accuracy", "decoder"], ascending=[False, False, True], na_position="last"
    )
    ranks = board["eligible"] & board["imagine_accuracy"].notna()
    board.insert(0, "rank", np.where(ranks, np.cumsum(ranks), 0))
    board["rank"] = board["rank"].map(lambda r: str(r) if r else "-")
    return board.reset_index(drop=True)


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{100 * x:.1f}"


def _num(x: float, fmt: str = ".2f") -> str:
    return "-" if pd.isna(x) else format(x, fmt)


def leaderboard_table(board: pd.DataFrame) -> list[dict[str, str]]:
    """Format the leaderboard's display rows (shared by Markdown and HTML)."""
    return [
        {
            "rank": r["rank"] + (" =" if r["tied_with_best"] else ""),
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


LEADERBOARD_LEGEND = (
    "Imagine accuracy: mean over train subjects of top-1 accuracy on the imagine trials "
    "(chance 10 %), 95 % bootstrap (BCa) interval over subjects, one-sided t-test against chance "
    "(Wilcoxon and exact sign-flip p-values in leaderboard.csv). Balanced: Hungarian assignment under "
    "each subject's class counts (chance 10 %). Top-3: chance 30 %. Subjects p<=.05: train subjects "
    "significant on their own (exact binomial test against 10 %). `=` after the rank: not significantly "
    "below the best decoder (paired sign-flip test on per-subject accuracy, Holm-corrected, alpha 0.05). "
    "Localizer: shared stratified 5-fold CV. Fit and predict times are means per subject; memory is the "
    "peak over subjects. Decoders ranked `-` are not eligible for ranking."
)


def leaderboard_markdown(board: pd.DataFrame, run_info: dict) -> str:
    """Render the leaderboard as Markdown (tabulate)."""
    from tabulate import tabulate

    header = (
        "# Leaderboard\n\n"
        f"Dataset `{run_info.get('dataset', '?')}` (fingerprint `{run_info.get('fingerprint', '?')}`), "
        f"seed {run_info.get('config', {}).get('seed', '?')}, code `{run_info.get('git_revision', '?')}`.\n"
        f"{LEADERBOARD_LEGEND}\n\n"
    )
    return (
        header
        + tabulate(leaderboard_table(board), headers="keys", tablefmt="github", disable_numparse=True)
        + "\n"
    )


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
        "## Last run, per decoder\n\nPer (decoder, subject) task: fit and predict on the full "
        "localizer / imagine epochs; the total includes the shared localizer cross-validation and "
        "data loading. "
        "Peak memory is the largest resident memory the task added (Linux peak RSS, data pages it "
        "read included; tracemalloc elsewhere).\n\n"
        + tabulate(agg, headers="keys", tablefmt="github", floatfmt=".2f", showindex=False)
        + "\n"
    )


RUNTIME_TITLE = (
    "# Runtime\n\nTwo sections, each rewritten by its own producer and kept by the other: "
    "`python -m benchmark run` (per-decoder totals of the last run) and `tox -e bench` "
    "(pytest-benchmark timings rendered from `runtime.json`).\n"
)


def write_section(path: Path, name: str, body: str, title: str = RUNTIME_TITLE) -> Path:
    """Replace (or append) the section ``name`` of a Markdown file, keeping the others.

    Parameters
    ----------
    path : Path
        The Markdown file; created with ``title`` when missing.
    name : str
        Section identifier, stored in HTML comments that Markdown does not show.
    body : str
        The section's new text.
    title : str
        First lines of a new file.

    Returns
    -------
    Path
        ``path``, written atomically.
    """
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    path = Path(path)
    text = path.read_text() if path.is_file() else title
    if start in text and end in text.split(start, 1)[1]:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def submission_frame(rows: Sequence[dict], decoder: str) -> pd.DataFrame:
    """Kaggle rows ``ID,label`` of one decoder's test-subject predictions."""
    records = []
    for row in rows:
        if row["pipeline"] != decoder or row.get("split") != "test" or row["status"] != "ok":
            continue
        labels = np.asarray(CLASS_NAMES)[np.asarray(row["proba"]).argmax(axis=1)]
        records += [
            {"ID": submission_id(row["subject"], i), "label": lab}
            for i, lab in zip(row["trial_idx"], labels, strict=True)
        ]
    return pd.DataFrame(records, columns=["ID", "label"])


def expected_submission_ids(dataset) -> list[str]:
    """Kaggle IDs of every test imagine epoch of ``dataset``, in file order.

    Counts the epochs of each test subject's ``-epo.fif`` (header only, no
    data loaded); ``trial_idx`` is the 1-based position in the file.

    Parameters
    ----------
    dataset : datasets.adapter.ChallengeDataset
        The dataset whose test subjects the submission is for.
    """
    import mne

    from datasets import layout

    ids: list[str] = []
    for subject in dataset.subjects_in("test"):
        fname = layout.imagine_epochs_file(dataset.ref(subject).path, subject)
        n = len(mne.read_epochs(fname, preload=False, verbose="error"))
        ids += [submission_id(subject, i) for i in range(1, n + 1)]
    return ids


def validate_submission(frame: pd.DataFrame, expected_ids: Sequence[str]) -> None:
    """Check a Kaggle submission against the test imagine epochs.

    Parameters
    ----------
    frame : DataFrame
        The submission (columns ``ID, label``).
    expected_ids : sequence of str
        One ``sub-XX_<i>`` per test imagine epoch (:func:`expected_submission_ids`).

    Raises
    ------
    SubmissionError
        Listing every problem found: wrong columns, duplicate IDs, unknown
        labels, missing or unexpected IDs.
    """
    if list(frame.columns) != ["ID", "label"]:
        raise SubmissionError(f"a submission has the columns ['ID', 'label'], got {list(frame.columns)}.")
    problems = []
    ids = frame["ID"].astype(str)
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        problems.append(f"{len(duplicated)} duplicate ID(s), e.g. {duplicated[:3]}")
    bad = sorted(set(frame["label"].astype(str)) - set(CLASS_NAMES))
    if bad:
        problems.append(f"label(s) {bad[:5]} not among the ten item names {list(CLASS_NAMES)}")
    expected = set(expected_ids)
    missing = [i for i in expected_ids if i not in set(ids)]
    extra = sorted(set(ids) - expected)
    if missing:
        problems.append(f"{len(missing)} test epoch(s) without a row, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} ID(s) that match no test epoch, e.g. {extra[:3]}")
    if problems:
        raise SubmissionError(
            f"invalid submission ({len(frame)} rows, {len(expected)} test imagine epochs expected): "
            + "; ".join(problems)
            + "."
        )


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
            grouped.setdefault(row["pipeline"], []).append(row)
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
        matrix = counts.setdefault(row["pipeline"], np.zeros((k, k), dtype=int))
        np.add.at(matrix, (y, pred), 1)
    return dict(sorted(counts.items()))


def load_run(folder: Path) -> tuple[list[dict], dict]:
    """Rows (``tasks.jsonl``) and run information (``run.json``) of a stored run.

    Rows are put back in task order (decoders, then subjects, as in
    ``run.json``), so rebuilt reports equal the original ones.

    Raises
    ------
    FileNotFoundError
        If either file is missing.
    """
    from benchmark.runner import TASKS_FILE

    folder = Path(folder)
    tasks, info_file = folder / TASKS_FILE, folder / "run.json"
    for path in (tasks, info_file):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: is {folder} a folder written by `python -m benchmark run`?"
            )
    run_info = json.loads(info_file.read_text())
    rows = [json.loads(line) for line in tasks.read_text().splitlines() if line.strip()]
    decoders = {n: i for i, n in enumerate(run_info.get("decoders", []))}
    subjects = {n: i for i, n in enumerate(run_info.get("subjects", []))}
    rows.sort(key=lambda r: (decoders.get(r["pipeline"], len(decoders)), r["pipeline"],
                             subjects.get(r["subject"], len(subjects)), r["subject"]))  # fmt: skip
    return rows, run_info


def write_reports(rows: Sequence[dict], out: Path, run_info: dict) -> pd.DataFrame:
    """Write every report file into ``out`` and return the leaderboard."""
    from benchmark import figures, html

    out.mkdir(parents=True, exist_ok=True)
    seed = _seed(run_info)
    results = results_frame(rows, run_info.get("dataset", ""), seed=seed)
    results.to_csv(out / "results.csv", index=False)
    compared = comparisons(results, seed)
    board = leaderboard(results, seed=seed, compared=compared)
    board.to_csv(out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(leaderboard_markdown(board, run_info))
    write_section(out / "runtime.md", "run", runtime_markdown(results))
    pairwise_frame(compared).to_csv(out / "pairwise.csv", index=False)
    submissions = out / "submissions"
    submissions.mkdir(exist_ok=True)
    for decoder in sorted(results["pipeline"].unique()):
        frame = submission_frame(rows, decoder)
        if len(frame):
            frame.to_csv(submissions / f"{decoder}.csv", index=False)
    (out / "run.json").write_text(json.dumps(run_info, indent=2, default=str) + "\n")
    courses = time_courses(rows, seed)
    plots = figures.write_figures(
        results,
        board,
        compared,
        courses,
        confusion_counts(rows),
        out / "figures",
        classes=CLASS_NAMES,
        seed=seed,
    )
    (out / "index.html").write_text(html.render_index(board, plots, run_info, compared, courses))
    logger.info("reports written to %s", out)
    return board
