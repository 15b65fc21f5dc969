"""The Markdown reports: ``leaderboard.md`` and the sections of ``runtime.md``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.runinfo import dataset_label, is_simulated
from benchmark.tables import leaderboard_legend, leaderboard_table


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
        results.groupby("decoder")
        .agg(
            tasks=("subject", "size"),
            fit_mean_s=("fit_time", "mean"),
            fit_max_s=("fit_time", "max"),
            predict_mean_s=("predict_time", "mean"),
            task_total_s=("wall_time", "sum"),
            peak_memory_mb=("peak_memory_mb", "max"),
        )
        .reset_index()
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
