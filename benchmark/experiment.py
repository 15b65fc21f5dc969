"""One benchmark run: dataset + decoders -> tasks -> reports."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmark import provenance
from benchmark.config import RunConfig
from benchmark.errors import DatasetError
from benchmark.journal import TASKS_FILE, write_journal_info, write_rows
from benchmark.outdir import OutputLock
from benchmark.publish import publish_reports
from benchmark.registry import DEFAULT_PACKAGE, discover
from benchmark.runner import run_tasks
from benchmark.tasks import plan_tasks
from datasets.adapter import ChallengeDataset
from datasets.truth import find_truth_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """Outcome of :func:`run_benchmark`.

    Attributes
    ----------
    rows : list of dict
        One result row per task.
    failures : list of dict
        The rows whose status is not ``ok`` (under ``--all``, with one
        ``error`` row per subject for each decoder file that failed to import).
    broken : dict of str to str
        Decoder files that failed to register (path -> message).
    """

    rows: list[dict]
    failures: list[dict] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)


def run_benchmark(
    config: RunConfig, package: str = DEFAULT_PACKAGE, *, draw_figures: bool = True
) -> RunSummary:
    """Run the configured decoders on the configured subjects and write reports.

    The output folder is locked for the whole run (:class:`OutputLock`);
    the requested subjects' headers are compared first and the odd one out
    is named (its tasks fail, the others run); the reports are built from
    this run's rows (reused and computed) and replace the previous set
    whole (:func:`publish_reports`).

    Parameters
    ----------
    config : RunConfig
        What to run and where to write; its ``moabb_pipelines`` (files or
        folders) are registered as decoders too (:func:`benchmark.registry.discover`).
    package : str
        Package scanned for decoder files.
    draw_figures : bool
        Draw the report's figures (False: the tables and the page only, as
        the cells of a sweep or robustness matrix are written).

    Returns
    -------
    RunSummary

    Raises
    ------
    UnknownDecoderError
        If a requested decoder is not registered.
    DatasetError
        If the dataset folder is unusable or a requested subject is unknown.
    OutputBusyError
        If another run is writing into ``config.out``.
    EnvironmentFailure
        If the output folder cannot be written (full disk, read-only).
    """
    dataset = ChallengeDataset(config.data, cache_dir=config.data_cache)
    registry = discover(package, strict=False, pipelines=config.moabb_pipelines or ())
    specs = registry.select(list(config.decoders) if config.decoders else None)
    simulated = find_truth_dir(dataset.root) is not None
    if not simulated:
        needs_truth = [s.name for s in specs if "truth" in s.uses]
        if needs_truth and config.decoders:
            raise DatasetError(
                f"{', '.join(needs_truth)} need(s) the ground truth of a simulated dataset; "
                f"{dataset.root} has none."
            )
        specs = [s for s in specs if "truth" not in s.uses]
    subjects = list(config.subjects) if config.subjects else dataset.subjects
    unknown = [s for s in subjects if s not in dataset.subjects]
    if unknown:
        raise DatasetError(
            f"Unknown subject(s) {unknown} in {dataset.root}; available: {', '.join(dataset.subjects)}."
        )
    # before any output is written: a run that writes into the repository's
    # tracked reports/ must not mark its own code revision "+dirty"
    revision = provenance.git_revision()
    with OutputLock(config.out):
        return _locked_run(
            config, dataset, registry.broken, specs, subjects, revision, simulated, draw_figures
        )


def _locked_run(config: RunConfig, dataset: ChallengeDataset, broken: dict[str, str], specs, subjects,
                revision: str, simulated: bool, draw_figures: bool = True) -> RunSummary:  # fmt: skip
    problems = dataset.set_reference(subjects)
    for subject, message in problems.items():
        logger.warning("%s: its tasks will fail: %s", subject, message)
    dataset.excluded = dict(problems)
    if any("others" in s.uses for s in specs):
        rest = [s for s in dataset.subjects if s not in subjects]
        for subject, message in dataset.header_problems(rest).items():
            logger.warning("%s is left out of the other subjects handed to decoders: %s", subject, message)
            dataset.excluded[subject] = message
    tasks = plan_tasks(specs, subjects)
    logger.info("%d decoders x %d subjects = %d tasks", len(specs), len(subjects), len(tasks))
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    fingerprint = dataset.fingerprint()
    all_decoders = config.decoders is None
    run_info = {
        "dataset": dataset.name,
        "dataset_root": str(dataset.root),
        "simulated": simulated,
        "fingerprint": fingerprint,
        "config": config.to_dict(),
        "decoders": [s.name for s in specs] + ([Path(o).name for o in broken] if all_decoders else []),
        "decoder_references": {s.name: s.reference for s in specs},
        "subjects": subjects,
        "broken_decoder_files": broken,
        "started_utc": started.isoformat(timespec="seconds"),
        "wall_time_s": None,
        "git_revision": revision,
        "versions": provenance.package_versions(),
        "machine": provenance.machine(),
    }
    write_journal_info(config.out, run_info, complete=False)
    rows = run_tasks(dataset, tasks, config, config.out, fingerprint=fingerprint)
    if broken and all_decoders:  # under --all a decoder that cannot be imported is a failure
        rows = rows + [_broken_row(origin, broken[origin], dataset, s) for origin in broken for s in subjects]
        write_rows(config.out / TASKS_FILE, rows)
    run_info["wall_time_s"] = round(time.perf_counter() - t0, 2)
    publish_reports(rows, config.out, run_info, n_jobs=config.n_jobs, draw_figures=draw_figures)
    write_journal_info(config.out, run_info, complete=True)
    failures = [r for r in rows if r["status"] != "ok"]
    return RunSummary(rows, failures, broken)


def _broken_row(origin: str, message: str, dataset: ChallengeDataset, subject: str) -> dict:
    """Return the ``error`` row of a decoder file that could not be imported, for one subject."""
    return {
        "decoder": Path(origin).name,
        "family": "not importable",
        "ranked": False,
        "subject": subject,
        "split": dataset.ref(subject).split,
        "status": "error",
        "error": f"decoder file {origin} could not be registered: {message}",
        "wall_time": 0.0,
        "cached": False,
    }
