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

Each file's content comes from one module: :mod:`benchmark.frames` (the
CSV tables, the leaderboard, comparisons), :mod:`benchmark.markdown`,
:mod:`benchmark.submissions`, :mod:`benchmark.history` (history and a
robustness run's files), :mod:`benchmark.runinfo` (``run.json``),
:mod:`benchmark.figures` and :mod:`benchmark.html`; this module only
orchestrates them. ``docs/reports.md`` describes every file and the
statistics' caveats.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.frames import (
    comparisons,
    confusion_counts,
    leaderboard,
    leaderboard_csv,
    moabb_results,
    pairwise_frame,
    results_csv,
    results_frame,
    statistics_notes,
    time_courses,
)
from benchmark.history import append_history, load_history, load_robustness
from benchmark.markdown import leaderboard_markdown, runtime_markdown, write_section
from benchmark.runinfo import dataset_label, is_simulated, portable_paths, run_seed
from benchmark.submissions import submission_frame, submissions_readme
from datasets.layout import CLASS_NAMES

logger = logging.getLogger(__name__)


def write_reports(
    rows: Sequence[dict],
    out: Path,
    run_info: dict,
    *,
    record_history: bool = False,
    n_jobs: int = 1,
    draw_figures: bool = True,
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
    draw_figures : bool
        Draw ``figures/`` (False: the tables and the page without them, as a
        robustness matrix's cells are written).
    """
    from benchmark import figures, html

    out.mkdir(parents=True, exist_ok=True)
    run_info = portable_paths(run_info)
    seed = run_seed(run_info)
    results = results_frame(rows, dataset_label(run_info, rows), seed=seed)
    results_csv(results).to_csv(out / "results_all.csv", index=False)
    results_csv(moabb_results(results)).to_csv(out / "results.csv", index=False)
    compared = comparisons(results, seed)
    board = leaderboard(results, seed=seed, compared=compared)
    notes = statistics_notes(compared, board)
    leaderboard_csv(board).to_csv(out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(leaderboard_markdown(board, run_info, notes, rows))
    if record_history and len(board):
        append_history(out, board, run_info, rows)
    write_section(out / "runtime.md", "run", runtime_markdown(results))
    pairwise_frame(compared).to_csv(out / "pairwise.csv", index=False)
    submissions = out / "submissions"
    submissions.mkdir(exist_ok=True)
    simulated = is_simulated(run_info, rows)
    ranked = results.groupby("decoder")["ranked"].first().astype(bool)
    for decoder in sorted(results["decoder"].unique()):
        frame = submission_frame(rows, decoder)
        if len(frame) and ranked.get(decoder, False):
            frame.to_csv(submissions / f"{decoder}.csv", index=False)
        elif not ranked.get(decoder, False):  # never a submission built from ground truth
            (submissions / f"{decoder}.csv").unlink(missing_ok=True)
    (submissions / "README.md").write_text(submissions_readme(run_info, simulated))
    (out / "run.json").write_text(json.dumps(run_info, indent=2, default=str) + "\n")
    courses = time_courses(rows, seed)
    plots = (
        []
        if not draw_figures
        else figures.write_figures(
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
    )
    present = [name for name, _ in html.REPORT_FILES if (out / name).is_file() or name == "tasks.jsonl"]
    page = html.render_index(
        board, plots, run_info, compared, courses, notes=notes, simulated=simulated, files=present,
        robustness=load_robustness(out),
    )  # fmt: skip
    (out / "index.html").write_text(page)
    logger.info("reports written to %s", out)
    return board
