"""Turn result rows into the report files.

Files written into the output folder:

``results.csv``
    What :mod:`moabb.analysis` expects, for the scored rows only: one row per
    (ranked decoder, train subject) with a finite score, MOABB's columns
    (``score, time, samples, subject, session, channels, n_sessions, dataset,
    pipeline, samples_test, n_classes``) first, then ours. ``dataset`` is
    ``imagine-simulated`` or ``imagine``.
``results_all.csv``
    Every task: the same columns plus test subjects (no score), failed tasks
    and unranked decoders (the oracle), told apart by ``split``, ``status``
    and ``ranked``.
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
    Configuration, package versions, git revision, dataset fingerprint; paths
    under the cache folder or the home directory are written as
    ``$IMAGINE_BENCH_HOME/...`` and ``~/...``. ``run --config run.json``
    repeats the run.

``docs/reports.md`` describes every file and the statistics' caveats.
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
from benchmark.errors import ReportInputError, SubmissionError
from benchmark.tables import DATASET_NAMES, leaderboard_legend, leaderboard_table
from datasets.layout import CLASS_NAMES, submission_id

logger = logging.getLogger(__name__)

#: MOABB's result columns (``moabb.analysis``), in its order, first in results.csv.
MOABB_COLUMNS = [
    "score", "time", "samples", "subject", "session", "channels", "n_sessions", "dataset", "pipeline",
    "samples_test", "n_classes",
]  # fmt: skip

RESULT_COLUMNS = [
    *MOABB_COLUMNS, "family", "ranked", "eligible", "split", "balanced_accuracy", "top3",
    "localizer_accuracy",
    "fit_time", "predict_time", "wall_time", "peak_memory_mb", "n_imagine", "n_correct", "p_binomial",
    "p_permutation", "p_permutation_balanced", "p_permutation_top3", "status", "error",
]  # fmt: skip

#: Significance level of per-subject tests and of the "tied with the best" group.
ALPHA = 0.05


_LIST_KEYS = ("proba", "trial_idx", "y_true", "evidence_curve", "evidence_times")


def is_simulated(run_info: dict, rows: Sequence[dict] = ()) -> bool:
    """Whether a run used simulated data.

    ``run_info["simulated"]`` when the run recorded it; for older runs, True
    when the dataset root has a simulation's ground truth beside it or a
    decoder of the ``oracle`` family (which needs that truth) ran.
    """
    if "simulated" in run_info:
        return bool(run_info["simulated"])
    from datasets.truth import find_truth_dir

    root = run_info.get("dataset_root")
    if root and find_truth_dir(Path(os.path.expanduser(str(root)))) is not None:
        return True
    return any(r.get("family") == "oracle" and r.get("status") == "ok" for r in rows)


def dataset_label(run_info: dict, rows: Sequence[dict] = ()) -> str:
    """``imagine-simulated`` or ``imagine``: the ``dataset`` column of results.csv."""
    return DATASET_NAMES[is_simulated(run_info, rows)]


def portable_paths(value, home: Path | None = None, cache: Path | None = None):
    """Replace this machine's cache and home folders in every string of ``value``.

    Strings starting with the cache folder (``$IMAGINE_BENCH_HOME``) become
    ``$IMAGINE_BENCH_HOME/...``, those starting with the home directory
    ``~/...``, so that a published ``run.json`` names no user's folders.
    :func:`benchmark.config.expand_path` reverses it.

    Parameters
    ----------
    value : object
        A JSON-like structure (dicts, lists, strings, numbers).
    home, cache : Path, optional
        Defaults: the user's home and :func:`datasets.default.cache_home`.

    Returns
    -------
    object
        A copy of ``value`` with the paths replaced.
    """
    from datasets.default import cache_home

    prefixes = [
        (str((cache or cache_home()).expanduser().resolve()), "$IMAGINE_BENCH_HOME"),
        (str((cache or cache_home()).expanduser()), "$IMAGINE_BENCH_HOME"),
        (str((home or Path.home()).resolve()), "~"),
        (str(home or Path.home()), "~"),
    ]

    def fix(item):
        if isinstance(item, dict):
            return {k: fix(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [fix(v) for v in item]
        if isinstance(item, str):
            for prefix, short in prefixes:
                if prefix not in ("", "/") and (item == prefix or item.startswith(prefix + os.sep)):
                    return short + item[len(prefix) :]
        return item

    return fix(value)


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
    frame["samples_test"] = frame.get("n_imagine", np.nan)
    frame["n_classes"] = len(CLASS_NAMES)
    if "eligible" in frame:
        frame["ranked"] = frame["eligible"].astype(bool)
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra].sort_values(["pipeline", "subject"], ignore_index=True)


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
    keep = train["ranked"].astype(bool) & np.isfinite(train["score"].to_numpy(dtype=float))
    return train[keep].reset_index(drop=True)


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
        ["eligible", "imagine_accuracy", "decoder"], ascending=[False, False, True], na_position="last"
    )
    ranks = board["eligible"] & board["imagine_accuracy"].notna()
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


def _title(run_info: dict, rows: Sequence[dict] = ()) -> str:
    simulated = is_simulated(run_info, rows)
    return "Leaderboard: simulated data" if simulated else "Leaderboard: IMAGINE challenge data"


def leaderboard_markdown(
    board: pd.DataFrame, run_info: dict, notes: Sequence[str] = (), rows: Sequence[dict] = ()
) -> str:
    """Render the leaderboard as Markdown (tabulate).

    Parameters
    ----------
    board : DataFrame
        From :func:`leaderboard`.
    run_info : dict
        The run's ``run.json`` content.
    notes : sequence of str
        From :func:`statistics_notes`, printed above the table.
    rows : sequence of dict
        The result rows (to tell simulated data from real data in older runs).
    """
    from tabulate import tabulate

    simulated = is_simulated(run_info, rows)
    n_train = int(board["n_subjects"].max()) if len(board) and board["n_subjects"].notna().any() else 0
    what = (
        "**Simulated data** (`datasets.simulate`), not the challenge's recordings: the scores say how "
        "the decoders behave on the simulation, not on real MEG."
        if simulated
        else "The IMAGINE challenge's recordings."
    )
    header = (
        f"# {_title(run_info, rows)}\n\n{what}\n\n"
        f"Dataset `{dataset_label(run_info, rows)}` (folder `{run_info.get('dataset', '?')}`, fingerprint "
        f"`{run_info.get('fingerprint', '?')}`), {n_train} train subjects, "
        f"seed {run_info.get('config', {}).get('seed', '?')}, code `{run_info.get('git_revision', '?')}`.\n\n"
        f"{leaderboard_legend(run_info)}\n\n" + "".join(f"**Note.** {note}\n\n" for note in notes)
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


#: Leaderboard history, one block of rows per recorded run (appended by the nightly job).
HISTORY_FILE = "history.csv"

HISTORY_COLUMNS = [
    "run_utc", "git_revision", "dataset", "fingerprint", "decoder", "ranked", "imagine_accuracy",
    "ci_low", "ci_high", "balanced_accuracy", "top3", "n_subjects", "status",
]  # fmt: skip


def history_rows(board: pd.DataFrame, run_info: dict, rows: Sequence[dict] = ()) -> pd.DataFrame:
    """One history row per decoder of ``board`` for the run described by ``run_info``."""
    frame = pd.DataFrame(
        {
            "run_utc": run_info.get("started_utc", ""),
            "git_revision": run_info.get("git_revision", ""),
            "dataset": dataset_label(run_info, rows),
            "fingerprint": run_info.get("fingerprint", ""),
            "decoder": board["decoder"],
            "ranked": board["eligible"].astype(bool),
            **{c: board[c] for c in HISTORY_COLUMNS[7:]},
            "imagine_accuracy": board["imagine_accuracy"],
        }
    )
    return frame[HISTORY_COLUMNS]


def load_history(folder: Path) -> pd.DataFrame | None:
    """``folder/history.csv`` or None when there is none.

    Raises
    ------
    ReportInputError
        If the file is not a CSV with the history's columns (the message names it).
    """
    path = Path(folder) / HISTORY_FILE
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path} is not a readable CSV file ({exc}); fix or delete it.") from exc
    missing = [c for c in ("run_utc", "decoder", "ranked", "imagine_accuracy") if c not in frame]
    if missing:
        raise ReportInputError(f"{path} lacks the column(s) {missing}; fix or delete it.")
    return frame


def append_history(folder: Path, board: pd.DataFrame, run_info: dict, rows: Sequence[dict] = ()) -> Path:
    """Append this run's leaderboard to ``folder/history.csv`` (once per run).

    Rows already recorded for the same ``run_utc`` and decoder are replaced,
    so appending a run twice leaves one copy.

    Returns
    -------
    Path
        The history file.
    """
    path = Path(folder) / HISTORY_FILE
    new = history_rows(board, run_info, rows)
    old = load_history(folder)
    if old is not None:
        same_run = old["run_utc"].astype(str).isin(set(new["run_utc"].astype(str)))
        new = pd.concat([old[~same_run], new], ignore_index=True)
    tmp = path.with_suffix(".csv.tmp")
    new.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


#: Columns of ``robustness.csv`` the page's robustness section reads.
ROBUSTNESS_COLUMNS = ("regime", "alpha", "decoder", "eligible", "accuracy", "ceiling", "margin_fraction")


def load_robustness(folder: Path) -> pd.DataFrame | None:
    """Return ``folder/robustness.csv`` (a robustness run's matrix) for the page, or None.

    None when there is no such file, or when it cannot be read or lacks a
    column (a warning names the file): the page is then built without it,
    never lost.
    """
    path = Path(folder) / "robustness.csv"
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        logger.warning("%s is not readable (%s): the page has no robustness section", path, exc)
        return None
    missing = [c for c in ROBUSTNESS_COLUMNS if c not in table]
    if missing:
        logger.warning("%s lacks the column(s) %s: the page has no robustness section", path, missing)
        return None
    return table


def write_reports(
    rows: Sequence[dict], out: Path, run_info: dict, *, record_history: bool = False, n_jobs: int = 1
) -> pd.DataFrame:
    """Write every report file into ``out`` and return the leaderboard.

    Parameters
    ----------
    rows : sequence of dict
        The result rows (``tasks.jsonl``).
    out : Path
        Report folder.
    run_info : dict
        The run's configuration and provenance (written to ``run.json`` with
        portable paths).
    record_history : bool
        Also append the leaderboard to ``out/history.csv`` (the nightly job
        does, through ``report --append-history``). An existing history is
        plotted either way.
    n_jobs : int
        Processes that draw the figures (-1: one per core); the files are
        the same for any value.
    """
    from benchmark import figures, html

    out.mkdir(parents=True, exist_ok=True)
    run_info = portable_paths(run_info)
    seed = _seed(run_info)
    results = results_frame(rows, dataset_label(run_info, rows), seed=seed)
    results.to_csv(out / "results_all.csv", index=False)
    moabb_results(results).to_csv(out / "results.csv", index=False)
    compared = comparisons(results, seed)
    board = leaderboard(results, seed=seed, compared=compared)
    notes = statistics_notes(compared, board)
    board.to_csv(out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(leaderboard_markdown(board, run_info, notes, rows))
    if record_history and len(board):
        append_history(out, board, run_info, rows)
    write_section(out / "runtime.md", "run", runtime_markdown(results))
    pairwise_frame(compared).to_csv(out / "pairwise.csv", index=False)
    submissions = out / "submissions"
    submissions.mkdir(exist_ok=True)
    simulated = is_simulated(run_info, rows)
    ranked = results.groupby("pipeline")["ranked"].first().astype(bool)
    for decoder in sorted(results["pipeline"].unique()):
        frame = submission_frame(rows, decoder)
        if len(frame) and ranked.get(decoder, False):
            frame.to_csv(submissions / f"{decoder}.csv", index=False)
        elif not ranked.get(decoder, False):  # never a submission built from ground truth
            (submissions / f"{decoder}.csv").unlink(missing_ok=True)
    (submissions / "README.md").write_text(submissions_readme(run_info, simulated))
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
        history_frame=load_history(out),
        n_jobs=n_jobs,
    )
    present = [name for name, _ in html.REPORT_FILES if (out / name).is_file() or name == "tasks.jsonl"]
    page = html.render_index(
        board, plots, run_info, compared, courses, notes=notes, simulated=simulated, files=present,
        robustness=load_robustness(out),
    )  # fmt: skip
    (out / "index.html").write_text(page)
    logger.info("reports written to %s", out)
    return board


def submissions_readme(run_info: dict, simulated: bool) -> str:
    """Text of ``submissions/README.md``: what the CSV files are and whether they are simulated."""
    what = (
        "**These submissions are for SIMULATED test subjects** (dataset `imagine-simulated`): their IDs "
        "do not match the challenge's 680 test epochs and Kaggle will reject them. They show the format "
        "and let `python -m benchmark submit --from-run` be tried. Make real ones with "
        "`python -m benchmark submit --decoder NAME --data PATH/TO/REAL/DATA`."
        if simulated
        else "Submissions for the IMAGINE challenge's test subjects (dataset `imagine`)."
    )
    return (
        "# Kaggle submissions\n\n"
        f"{what}\n\n"
        "One file per decoder, columns `ID,label` (`ID = sub-XX_<trial_idx>`, `label` the item name). "
        "The public leaderboard scores all test rows: choose decoders on the train subjects, not by "
        "submitting. The oracle (unranked) reads the simulation's truth and is never submitted; "
        "`python -m benchmark submit` refuses unranked decoders.\n\n"
        f"Dataset fingerprint `{run_info.get('fingerprint', '?')}`, "
        f"code `{run_info.get('git_revision', '?')}`.\n"
    )
