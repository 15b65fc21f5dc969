"""Work on several subjects at once in forked processes (simulating them, reading them into the cache)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def worker_count(n_jobs: int, n_items: int) -> int:
    """Return how many processes ``n_items`` items get: ``n_jobs`` (-1: one per core), in 1..n_items."""
    wanted = (os.cpu_count() or 1) if n_jobs == -1 else max(n_jobs, 1)
    return max(1, min(n_items, wanted))


def map_forked(fn: Callable[[T], R], items: Sequence[T], n_jobs: int) -> list[R]:
    """``[fn(item) for item in items]``, in ``n_jobs`` forked processes when more than one.

    Forked workers inherit this process's imports and caches.

    Parameters
    ----------
    fn : callable
        A picklable function of one item.
    items : sequence
        The items, each pickled to its worker.
    n_jobs : int
        Processes (``-1``: one per core; 1: in this process).

    Returns
    -------
    list
        The results, in the order of ``items``; the first worker exception is raised.
    """
    n = worker_count(n_jobs, len(items))
    if n <= 1:
        return [fn(item) for item in items]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(n, mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(fn, items))


def fill_cache(root: Path, cache_dir: Path, n_jobs: int) -> None:
    """Read every subject of the dataset at ``root`` into the array cache, ``n_jobs`` at a time (forked).

    Later loads, in this process or a task's, then read the memory-mapped
    arrays instead of the FIF files (each subject's first load would
    otherwise read them, one subject after another). Nothing happens with
    one job: the loads fill the cache as they come. A subject that cannot be
    read is left for its first load to report.

    Parameters
    ----------
    root : Path
        The dataset root (:class:`datasets.adapter.ChallengeDataset`).
    cache_dir : Path
        The array cache's folder (:mod:`datasets.cache`).
    n_jobs : int
        Processes (``-1``: one per core).
    """
    from datasets import reading
    from datasets.adapter import ChallengeDataset

    subjects = ChallengeDataset(root).subjects
    if worker_count(n_jobs, len(subjects)) <= 1:
        return
    reading.warm_imports()  # once here, not in every forked process
    map_forked(functools.partial(_fill_subject, Path(root), Path(cache_dir)), subjects, n_jobs)


def _fill_subject(root: Path, cache_dir: Path, subject: str) -> None:
    """Load one subject into the array cache (a :func:`fill_cache` worker)."""
    from datasets.adapter import ChallengeDataset
    from datasets.errors import DatasetError

    try:
        ChallengeDataset(root, cache_dir=cache_dir).load(subject)
    except DatasetError:  # reported by the subject's first load in the run
        logger.debug("%s not cached", subject, exc_info=True)
