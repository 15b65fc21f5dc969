"""One benchmark run: dataset + decoders -> tasks -> reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from benchmark import provenance
from benchmark.config import RunConfig
from benchmark.errors import DatasetError
from benchmark.registry import DEFAULT_PACKAGE, discover
from benchmark.report import write_reports
from benchmark.runner import plan_tasks, run_tasks
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
        The rows whose status is not ``ok``.
    broken : dict of str to str
        Decoder files that failed to register (path -> message).
    """

    rows: list[dict]
    failures: list[dict] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)


def run_benchmark(config: RunConfig, package: str = DEFAULT_PACKAGE, pipelines: Sequence = ()) -> RunSummary:
    """Run the configured decoders on the configured subjects and write reports.

    Parameters
    ----------
    config : RunConfig
        What to run and where to write.
    package : str
        Package scanned for decoder files.
    pipelines : sequence of path
        MOABB pipeline files or folders registered as decoders too
        (:func:`benchmark.registry.discover`).

    Returns
    -------
    RunSummary

    Raises
    ------
    UnknownDecoderError
        If a requested decoder is not registered.
    DatasetError
        If the dataset folder is unusable or a requested subject is unknown.
    """
    dataset = ChallengeDataset(config.data, cache_dir=config.data_cache)
    registry = discover(package, strict=False, pipelines=pipelines)
    specs = registry.select(list(config.decoders) if config.decoders else None)
    if find_truth_dir(dataset.root) is None:
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
    tasks = plan_tasks(specs, subjects)
    logger.info("%d decoders x %d subjects = %d tasks", len(specs), len(subjects), len(tasks))
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    fingerprint = dataset.fingerprint()
    # before any output is written: a run that writes into the repository's
    # tracked reports/ must not mark its own code revision "+dirty"
    revision = provenance.git_revision()
    rows = run_tasks(dataset, tasks, config, config.out, fingerprint=fingerprint)
    run_info = {
        "dataset": dataset.name,
        "dataset_root": str(dataset.root),
        "fingerprint": fingerprint,
        "config": config.to_dict(),
        "decoders": [s.name for s in specs],
        "decoder_references": {s.name: s.reference for s in specs},
        "subjects": subjects,
        "broken_decoder_files": registry.broken,
        "started_utc": started.isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - t0, 2),
        "git_revision": revision,
        "versions": provenance.package_versions(),
        "machine": provenance.machine(),
    }
    write_reports(rows, config.out, run_info)
    failures = [r for r in rows if r["status"] != "ok"]
    return RunSummary(rows, failures, registry.broken)
