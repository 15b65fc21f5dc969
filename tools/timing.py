"""Timing work on a shared machine: wall and CPU seconds, best of n, sides in turn, machine facts."""

from __future__ import annotations

import math
import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one measured call.

    Attributes
    ----------
    label : str
        What was timed.
    wall : float
        Wall-clock seconds (the fastest of ``runs``).
    cpu : float
        CPU seconds of the same run: this process's threads plus waited-for
        child processes (``resource.RUSAGE_CHILDREN``).
    runs : int
        Number of runs measured; ``wall`` and ``cpu`` are the fastest one's.
    note : str
        How the number was obtained, e.g. an extrapolation.
    """

    label: str
    wall: float
    cpu: float
    runs: int = 1
    note: str = ""

    def scaled(self, factor: float, label: str, note: str) -> Timing:
        """Return this timing multiplied by ``factor`` (a linear extrapolation)."""
        return Timing(label, self.wall * factor, self.cpu * factor, self.runs, note)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(
    label: str,
    fn: Callable[[], Any],
    *,
    repeat: int = 1,
    note: str = "",
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = cpu_seconds,
) -> tuple[Timing, Any]:
    """Call ``fn`` ``repeat`` times; return the fastest run's :class:`Timing` and the last result."""
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}.")
    ((timing, result),) = measure_interleaved([(label, fn)], repeat, clock=clock, cpu_clock=cpu_clock)
    return (replace(timing, note=note) if note else timing), result


def interleaved_order(n_sides: int, repeat: int) -> list[int]:
    """Order in which :func:`measure_interleaved` calls its sides: ``0, 1, .., 0, 1, ..`` (A B A B).

    Every side runs once per round, so a burst of background load lasting a
    round hits every side, not only the one that happened to run then.
    """
    if n_sides < 1 or repeat < 1:
        raise ValueError(f"n_sides and repeat must be >= 1, got {n_sides} and {repeat}.")
    return [side for _ in range(repeat) for side in range(n_sides)]


def measure_interleaved(
    calls: Sequence[tuple[str, Callable[[], Any]]],
    repeat: int,
    *,
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = cpu_seconds,
) -> list[tuple[Timing, Any]]:
    """Time several callables interleaved (A B A B ...), best of ``repeat`` for each.

    Parameters
    ----------
    calls : sequence of (str, callable)
        Label and zero-argument callable of each side (e.g. baseline, candidate).
    repeat : int
        Rounds; each side runs once per round, in :func:`interleaved_order`.
    clock, cpu_clock : callable
        Wall-clock and CPU-time clocks in seconds (injectable for tests).

    Returns
    -------
    list of (Timing, object)
        Per side, in the order of ``calls``: the fastest run's timing (wall
        and the same run's CPU time, ``runs=repeat``) and the last result.
    """
    if not calls:
        raise ValueError("calls must hold at least one (label, callable).")
    best: list[tuple[float, float] | None] = [None] * len(calls)
    results: list[Any] = [None] * len(calls)
    for side in interleaved_order(len(calls), repeat):
        fn = calls[side][1]
        cpu0, wall0 = cpu_clock(), clock()
        results[side] = fn()
        wall, cpu = clock() - wall0, cpu_clock() - cpu0
        current = best[side]
        if current is None or wall < current[0]:
            best[side] = (wall, cpu)
    out = []
    for (label, _), b, result in zip(calls, best, results, strict=True):
        wall, cpu = b if b is not None else (math.nan, math.nan)
        out.append((Timing(label, wall, cpu, repeat), result))
    return out


def machine_lines() -> list[str]:
    """Machine, versions, BLAS and load average: printed above the checks."""
    import psutil
    from threadpoolctl import threadpool_info

    from benchmark import provenance

    versions = provenance.package_versions(("numpy", "scipy", "scikit-learn", "mne"))
    blas = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return [
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GB RAM",
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + "; BLAS: "
        + (", ".join(blas) or "?"),
        "load average at start (1/5/15 min): " + load_average_text(),
    ]


def load_average_text() -> str:
    """Return the 1, 5 and 15-minute load averages as printed: ``"1.2 / 1.5 / 1.6"``."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())
