"""``python -m benchmark run`` timed in a child process, exactly as a user calls it, with its memory."""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.timing import Timing, cpu_seconds

logger = logging.getLogger(__name__)


MIB = 2**20


@dataclass
class RunMeasurement:
    """One ``python -m benchmark run`` in a child process.

    Attributes
    ----------
    timing : Timing
        Wall time, and the CPU time of that run's process tree only.
    returncode : int
        Exit code of the run.
    out : Path
        Its output folder.
    rows : list of dict
        Its ``tasks.jsonl`` rows.
    max_rss_mb : float
        Peak RSS of the largest single process of the run (the run process or
        one of its task/worker processes; ``wait4`` rusage).
    peak_tree_mb : float
        Peak of the memory of the whole process tree, sampled every
        ``RUN_SAMPLE_S`` seconds (sum of PSS where Linux reports it, else of
        RSS); what the run needs of the machine's RAM.
    stderr : str
        The end of its standard error.
    """

    timing: Timing
    returncode: int
    out: Path
    rows: list[dict] = field(default_factory=list)
    max_rss_mb: float = math.nan
    stderr: str = ""
    peak_tree_mb: float = math.nan


RUN_SAMPLE_S = 0.5


def _children_max_rss_mb() -> float:
    """Peak RSS of the largest waited-for descendant so far (Linux: ru_maxrss in KiB)."""
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / MIB


def _tree_memory_mb(pid: int) -> float:
    """Memory of a process and its descendants now: sum of PSS (Linux) or RSS, in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return math.nan
    total = 0.0
    for proc in procs:
        try:
            try:
                total += proc.memory_full_info().pss
            except (AttributeError, psutil.AccessDenied):
                total += proc.memory_info().rss
        except psutil.Error:  # ended between listing and reading
            continue
    return total / MIB


def run_process(cmd: Sequence[str], env: dict[str, str], label: str) -> tuple[Timing, int, str, float, float]:
    """Run ``cmd``; return its timing, exit code, stderr, largest-process and whole-tree peak memory (MB).

    The CPU time and the largest process's peak RSS come from ``os.wait4``
    (this child and its waited-for descendants only); the tree's memory is
    sampled every :data:`RUN_SAMPLE_S` seconds in a thread.
    """
    import threading

    peak = [math.nan]
    with tempfile.TemporaryFile("w+") as err:
        wall0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=err, text=True, env=env)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                now = _tree_memory_mb(proc.pid)
                if math.isfinite(now) and not now <= peak[0]:
                    peak[0] = now
                stop.wait(RUN_SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            if hasattr(os, "wait4"):
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime
                max_rss = usage.ru_maxrss / (MIB if sys.platform == "darwin" else 1024)
            else:  # pragma: no cover - not Unix
                cpu0 = cpu_seconds()
                proc.wait()
                cpu, max_rss = cpu_seconds() - cpu0, _children_max_rss_mb()
        finally:
            stop.set()
            sampler.join()
        wall = time.perf_counter() - wall0
        err.seek(0)
        stderr = err.read()[-2000:]
    return Timing(label, wall, cpu), int(proc.returncode), stderr, max_rss, peak[0]


def run_cli(
    data: Path,
    out: Path,
    *,
    n_jobs: int,
    decoders: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    timeout: float = 1800.0,
    env: dict[str, str] | None = None,
    label: str | None = None,
    extra_args: Sequence[str] = (),
) -> RunMeasurement:
    """Time ``python -m benchmark run`` exactly as a user calls it (``--force``, no progress bar).

    ``env`` adds environment variables to the child's (e.g. BLAS thread counts);
    ``extra_args`` are appended to the command (e.g. ``["--backend", "dask"]``).
    """
    cmd = [sys.executable, "-m", "benchmark", "run", "--data", str(data), "--out", str(out)]
    cmd += ["--decoder", *decoders] if decoders else ["--all"]
    if subjects:
        cmd += ["--subjects", *subjects]
    cmd += ["--n-jobs", str(n_jobs), "--no-progress", "--force", "--timeout", str(timeout), *extra_args]
    label = label or f"run --n-jobs {n_jobs}"
    child_env = {**os.environ, **(env or {})}
    timing, returncode, stderr, max_rss, tree = run_process(cmd, child_env, label)
    rows = []
    tasks = out / "tasks.jsonl"
    if tasks.is_file():
        from benchmark.journal import current_names

        rows = [current_names(json.loads(line)) for line in tasks.read_text().splitlines() if line.strip()]
    logger.info("%s: %.1f s, exit code %d", " ".join(cmd[1:]), timing.wall, returncode)
    return RunMeasurement(timing, returncode, out, rows, max_rss, stderr, tree)


def warm_data_cache(data: Path) -> None:
    """Load every subject once through the CLI's array cache (:func:`datasets.default.array_cache_dir`)."""
    from datasets.adapter import ChallengeDataset
    from datasets.default import array_cache_dir

    dataset = ChallengeDataset(data, cache_dir=array_cache_dir())
    for subject in dataset.subjects:
        dataset.load(subject)
