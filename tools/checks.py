"""Performance targets against their measurements: verdicts that know the machine's load, report text.

A target missed while the 1-minute load average exceeded the core count (by
more than :data:`BUSY_MARGIN`) is ``BUSY`` ("machine busy: re-run"): not
verified, and not a failure of :func:`exit_code`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tools.timing import Timing, available_cores

AT_LEAST, AT_MOST = "at_least", "at_most"


#: Load above the core count that still counts as idle: the measurement's own processes and jitter.
BUSY_MARGIN = 0.5


@dataclass(frozen=True)
class Check:
    """One target: a measured value against a threshold.

    Attributes
    ----------
    target : str
        Identifier, e.g. ``"1a"``.
    title : str
        What is checked, with the target in words.
    value : float
        The measured value (a speed-up, a difference, megabytes, seconds).
    threshold : float
        The target value.
    kind : {"at_least", "at_most"}
        Whether ``value`` must be at least or at most ``threshold``.
    unit : str
        Unit of ``value`` and ``threshold`` (``"x"`` for speed-ups).
    timings : tuple of Timing
        The measurements behind ``value`` (baseline first).
    details : tuple of str
        Further lines printed under the check.
    enforced : bool
        Whether a miss makes the exit code non-zero (``--quick`` does not
        enforce size-dependent targets).
    load_before, load_after : tuple of float or None
        Load average (1, 5, 15 min, :func:`os.getloadavg`) just before and
        just after the measurement; None when not recorded.
    n_cores : int or None
        Cores this process may use (:func:`available_cores`) when measured.
    timed : bool
        Whether the value is a time or a ratio of times, i.e. whether
        background load can explain a miss (not so for accuracy, memory or
        failed tasks: their misses are always ``MISS``).
    """

    target: str
    title: str
    value: float
    threshold: float
    kind: str = AT_LEAST
    unit: str = "x"
    timings: tuple[Timing, ...] = ()
    details: tuple[str, ...] = ()
    enforced: bool = True
    load_before: tuple[float, ...] | None = None
    load_after: tuple[float, ...] | None = None
    n_cores: int | None = None
    timed: bool = True

    def __post_init__(self) -> None:
        if self.kind not in (AT_LEAST, AT_MOST):
            raise ValueError(f"kind must be {AT_LEAST!r} or {AT_MOST!r}, got {self.kind!r}.")

    @property
    def passed(self) -> bool:
        """Whether the value meets the target (NaN never does)."""
        return meets_target(self.value, self.threshold, self.kind)

    @property
    def verdict(self) -> str:
        """``PASS``, ``MISS`` or ``BUSY`` (missed while the machine was busy): see :func:`verdict`."""
        return verdict(
            self.value, self.threshold, self.kind, self.load_before, self.load_after, self.n_cores,
            timed=self.timed,
        )  # fmt: skip

    @property
    def status(self) -> str:
        """The verdict, in lower case when the check is not enforced (``--quick``)."""
        return self.verdict if self.enforced else self.verdict.lower()


PASS, MISS, BUSY = "PASS", "MISS", "BUSY"


def meets_target(value: float, threshold: float, kind: str) -> bool:
    """Whether ``value`` is at least (``kind="at_least"``) or at most ``threshold``; NaN never is."""
    if kind not in (AT_LEAST, AT_MOST):
        raise ValueError(f"kind must be {AT_LEAST!r} or {AT_MOST!r}, got {kind!r}.")
    if not math.isfinite(value):
        return False
    return value >= threshold if kind == AT_LEAST else value <= threshold


def machine_busy(
    load_before: Sequence[float] | None, load_after: Sequence[float] | None, n_cores: int | None
) -> bool:
    """Whether the 1-minute load average before or after a measurement exceeded ``n_cores``.

    Exceeded by more than :data:`BUSY_MARGIN`: a run that keeps every core
    busy with its own workers leaves the load at about ``n_cores`` (2.0-2.1
    after a 2-worker run on 2 cores), which is no contention; another job's
    process beside it pushes the load a whole unit higher. Unknown loads or
    core count (None) are never busy: the verdict then stays a plain miss.
    """
    if n_cores is None or n_cores < 1:
        return False
    loads = [load[0] for load in (load_before, load_after) if load]
    return any(load > n_cores + BUSY_MARGIN for load in loads)


def verdict(
    value: float,
    threshold: float,
    kind: str,
    load_before: Sequence[float] | None = None,
    load_after: Sequence[float] | None = None,
    n_cores: int | None = None,
    *,
    timed: bool = True,
) -> str:
    """Verdict of one target: ``PASS``, ``MISS``, or ``BUSY`` for a miss on a busy machine.

    Parameters
    ----------
    value, threshold : float
        The measured value and the target.
    kind : {"at_least", "at_most"}
        Direction of the target.
    load_before, load_after : sequence of float or None
        :func:`os.getloadavg` just before and after the measurement.
    n_cores : int or None
        Cores available to the measurement.
    timed : bool
        Whether the value is a time or a ratio of times; other misses
        (accuracy, memory) are never blamed on the load.

    Returns
    -------
    str
        ``PASS`` when the target is met, whatever the load (a pass on a busy
        machine would only be larger on an idle one); ``BUSY`` when it is
        missed while the 1-minute load average before or after exceeded the
        core count (not verified: re-run on an idle machine); else ``MISS``.
    """
    if meets_target(value, threshold, kind):
        return PASS
    return BUSY if timed and machine_busy(load_before, load_after, n_cores) else MISS


def with_load(
    checks: Sequence[Check],
    load_before: Sequence[float] | None,
    load_after: Sequence[float] | None,
    n_cores: int | None,
) -> list[Check]:
    """Return ``checks`` with the load averages around their measurement and the core count."""
    before = tuple(load_before) if load_before is not None else None
    after = tuple(load_after) if load_after is not None else None
    return [replace(c, load_before=before, load_after=after, n_cores=n_cores) for c in checks]


def measure_checks(
    run: Callable[[], Sequence[Check]],
    *,
    loadavg: Callable[[], Sequence[float]] = os.getloadavg,
    n_cores: int | None = None,
) -> list[Check]:
    """Call ``run`` (one target's measurement) and record the load average before and after it."""
    before = tuple(loadavg())
    checks = run()
    after = tuple(loadavg())
    return with_load(checks, before, after, available_cores() if n_cores is None else n_cores)


def speedup(baseline: float, candidate: float) -> float:
    """``baseline / candidate``: how many times faster the candidate is (inf if it took 0 s)."""
    if baseline < 0 or candidate < 0 or not (math.isfinite(baseline) and math.isfinite(candidate)):
        raise ValueError(f"times must be finite and >= 0, got baseline={baseline}, candidate={candidate}.")
    if candidate == 0:
        return math.inf if baseline > 0 else math.nan
    return baseline / candidate


def speedup_check(
    target: str,
    title: str,
    baseline: Timing,
    candidate: Timing,
    minimum: float,
    *,
    enforced: bool = True,
    details: Sequence[str] = (),
) -> Check:
    """Return a :class:`Check` that ``candidate`` is ``minimum`` times faster or more (wall time)."""
    cpu_ratio = speedup(baseline.cpu, candidate.cpu) if baseline.cpu > 0 and candidate.cpu > 0 else math.nan
    return Check(
        target,
        title,
        speedup(baseline.wall, candidate.wall),
        minimum,
        AT_LEAST,
        "x",
        (baseline, candidate),
        (f"CPU-time ratio {cpu_ratio:.1f}x", *details),
        enforced,
    )


def exit_code(checks: Sequence[Check]) -> int:
    """1 when an enforced check missed its target on a machine that was not busy, else 0.

    A miss while the machine was busy (``BUSY``) is reported as not verified
    and does not fail the exit code.
    """
    return int(any(c.enforced and c.verdict == MISS for c in checks))


def _fmt_value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.2f} {unit}".strip()


def format_check(check: Check) -> str:
    """Return the lines printed for one check."""
    sign = ">=" if check.kind == AT_LEAST else "<="
    status = "machine busy: re-run" if check.verdict == BUSY else check.status
    lines = [
        f"[{check.target}] {status}  {check.title}",
        f"     measured {_fmt_value(check.value, check.unit)} (target {sign} "
        f"{_fmt_value(check.threshold, check.unit)})" + ("" if check.enforced else " [not enforced]"),
    ]
    if check.load_before is not None or check.load_after is not None:
        lines.append(
            f"     load average before {_fmt_load(check.load_before)}, after {_fmt_load(check.load_after)} "
            f"(1/5/15 min; {check.n_cores if check.n_cores is not None else '?'} cores)"
        )
    if check.status == BUSY:
        lines.append(
            "     NOT VERIFIED: the target was missed while the 1-min load average exceeded the core count "
            f"(+{BUSY_MARGIN}); "
            "not counted as a failure"
        )
    width = max((len(t.label) for t in check.timings), default=0)
    for t in check.timings:
        runs = "1 run" if t.runs == 1 else f"best of {t.runs}"
        line = f"     {t.label:<{width}}  wall {t.wall:9.3f} s  cpu {t.cpu:9.3f} s  ({runs})"
        lines.append(line + (f"  {t.note}" if t.note else ""))
    lines += [f"     {d}" for d in check.details]
    return "\n".join(lines)


def format_report(checks: Sequence[Check], header: Sequence[str] = (), footer: Sequence[str] = ()) -> str:
    """Return the whole profile output: header lines, every check, a summary line."""
    missed = [c.target for c in checks if c.enforced and c.verdict == MISS]
    busy = [c.target for c in checks if c.enforced and c.verdict == BUSY]
    parts_ = [f"missed {', '.join(missed)}"] if missed else []
    if busy:
        parts_.append(f"NOT VERIFIED (machine busy: re-run) {', '.join(busy)}")
    summary = f"{len(checks)} checks: " + ("; ".join(parts_) or "every enforced target met") + "."
    parts = ["\n".join(header)] if header else []
    parts += [format_check(c) for c in checks]
    parts += ["\n".join([*footer, summary])]
    return "\n\n".join(parts) + "\n"


def _fmt_load(load: Sequence[float] | None) -> str:
    return "?" if not load else " / ".join(f"{x:.1f}" for x in load)
