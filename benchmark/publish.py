"""Publishing a report set whole into an output folder.

:func:`publish_reports` writes the report set into a temporary folder inside
``<out>`` and renames its entries into place only once every file is
written: a failure (full disk, a bug in a report writer) leaves the previous
complete set and no temporary file behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmark.files import environment_failure
from benchmark.report import write_reports

logger = logging.getLogger(__name__)


def publish_reports(
    rows: Sequence[dict],
    out: Path,
    run_info: dict,
    *,
    record_history: bool = False,
    n_jobs: int = 1,
    draw_figures: bool = True,
):
    """Write the report set of ``rows`` into ``out`` all at once.

    The reports are written into ``<out>/.reports-XXXX/`` by
    :func:`benchmark.report.write_reports` (``runtime.md`` is copied there
    first, so its other sections are kept, and so are ``history.csv``, which
    ``record_history`` appends to, and a robustness run's ``robustness.csv``
    and ``robustness.md``, which the page shows), then each entry is renamed into
    ``out`` (a folder such as ``figures/`` replaces the old one whole).
    Renames need no space, so a full disk or an exception in a writer leaves
    the previous complete set; only a kill during the final renames
    (microseconds) could mix two sets. ``n_jobs`` processes draw the
    figures (none when ``draw_figures`` is False).

    Returns
    -------
    pandas.DataFrame
        The leaderboard.

    Raises
    ------
    EnvironmentFailure
        On a full disk, a read-only or unwritable folder (the path is named).
    """
    out = Path(out)
    staging = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".reports-"))
        for kept in ("runtime.md", "history.csv", "robustness.csv", "robustness.md"):
            if (out / kept).is_file():
                shutil.copy2(out / kept, staging / kept)
        board = write_reports(
            rows, staging, run_info, record_history=record_history, n_jobs=n_jobs, draw_figures=draw_figures
        )
        _swap_in(staging, out)
        logger.info("report set published in %s", out)
    except OSError as exc:
        raise environment_failure(exc, out, "writing the reports") from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return board


def _swap_in(staging: Path, out: Path) -> None:
    """Rename every entry of ``staging`` into ``out``; old folders go to a trash folder first."""
    trash = Path(tempfile.mkdtemp(dir=out, prefix=".reports-old-"))
    try:
        entries = sorted(staging.iterdir(), key=lambda p: (p.name == "index.html", p.name))
        for entry in entries:  # index.html last: it links to everything else
            target = out / entry.name
            if entry.is_dir() and target.is_dir():
                os.replace(target, trash / entry.name)
            os.replace(entry, target)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
