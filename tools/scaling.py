"""Cost curve of the harness: time and memory against the amount of work.

``python -m tools profile --scaling`` runs ``python -m benchmark run``
(through :func:`tools.runs.run_cli`, exactly as a user calls it, data cache
warm) on simulated datasets of growing size and writes ``reports/scaling.md``
and ``reports/scaling.png``:

1. **Subjects**: whole-run wall time, CPU time and peak memory for each
   number of subjects (default 5, 10, 15, 29; train and test subjects in the
   study's 15 : 14 proportion), and each decoder's summed task time;
2. **Trials**: each decoder's mean task time against localizer epochs per
   subject (2 subjects, one process, so tasks do not share the cores);
3. **Backends**: the same tasks on the local backend and on a dask
   ``LocalCluster`` with 1 and 2 single-threaded workers (skipped, with a
   note, when ``distributed`` is not installed).

Growth is fitted as a power law, ``time ~ a * n ** k`` by least squares on
log-log axes (:func:`fit_power_law`), per decoder and for the whole run, and
extrapolated to a 100-subject dataset. The measuring is in
:func:`measure_scaling`; fitting, extrapolation and rendering are pure
functions of a :class:`ScalingResult`.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import logging
import math
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: Subject counts of the whole-run curve (the study has 29).
DEFAULT_SUBJECTS = (5, 10, 15, 29)
#: Localizer epochs per class of the trial curve (the study has 48: 480 epochs per subject).
DEFAULT_TRIALS_PER_CLASS = (12, 24, 48)
#: Subjects of the trial curve's datasets (1 train + 1 test).
TRIAL_CURVE_SUBJECTS = 2
#: Dask workers compared with the local backend's processes.
BACKEND_WORKERS = (1, 2)
#: The dataset size the cost is extrapolated to.
EXTRAPOLATE_TO = 100
N_CLASSES = 10
#: Train and test subjects of the full study (15 + 14).
STUDY_SPLIT = (15, 14)

DatasetFactory = Callable[[int, int], Path]


# ----------------------------------------------------------------------------
# pure parts: fitting, extrapolation, rendering
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerFit:
    """A power law ``y = a * x ** k`` fitted on log-log axes.

    Attributes
    ----------
    k : float
        Growth exponent (1: linear, 2: quadratic).
    a : float
        Scale: ``y`` at ``x = 1``.
    r2 : float
        Coefficient of determination on the log-log axes (1 for two points).
    n_points : int
        Points fitted.
    """

    k: float
    a: float
    r2: float
    n_points: int

    def predict(self, x: float) -> float:
        """Return ``a * x ** k`` (an extrapolation beyond the fitted range)."""
        return self.a * float(x) ** self.k


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerFit:
    """Fit ``y ~ a * x ** k`` by least squares on ``log y = log a + k log x``.

    Parameters
    ----------
    x, y : sequence of float
        Sizes and costs; non-finite or non-positive pairs are left out.

    Returns
    -------
    PowerFit
        The fit.

    Raises
    ------
    ValueError
        When fewer than two usable points, or fewer than two distinct ``x``,
        remain.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {xs.shape} and {ys.shape}.")
    keep = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    lx, ly = np.log(xs[keep]), np.log(ys[keep])
    if np.unique(lx).size < 2:
        raise ValueError(
            f"a power law needs at least two points with distinct positive x and positive y, got "
            f"x={xs.tolist()}, y={ys.tolist()}."
        )
    k, log_a = np.polyfit(lx, ly, 1)
    residual = ly - (log_a + k * lx)
    total = ((ly - ly.mean()) ** 2).sum()
    r2 = 1.0 - float((residual**2).sum() / total) if total > 0 else 1.0
    return PowerFit(float(k), float(math.exp(log_a)), r2, int(lx.size))


def try_fit(x: Sequence[float], y: Sequence[float]) -> PowerFit | None:
    """:func:`fit_power_law`, or None where it cannot fit (too few points)."""
    try:
        return fit_power_law(x, y)
    except ValueError:
        return None


def split_subjects(n_subjects: int) -> tuple[int, int]:
    """Train and test subjects of an ``n_subjects`` dataset, in the study's 15 : 14 proportion.

    At least one train subject; at most 15 train and 14 test (the study's IDs).
    """
    n_train_max, n_test_max = STUDY_SPLIT
    if not 1 <= n_subjects <= n_train_max + n_test_max:
        raise ValueError(
            f"number of subjects must be in 1..{n_train_max + n_test_max} (the study's subject IDs), "
            f"got {n_subjects}."
        )
    n_train = min(n_train_max, max(1, round(n_subjects * n_train_max / (n_train_max + n_test_max))))
    n_test = n_subjects - n_train
    if n_test > n_test_max:
        n_train, n_test = n_subjects - n_test_max, n_test_max
    return n_train, n_test


@dataclass(frozen=True, kw_only=True)
class LoadedPoint:
    """What every measured point records of the machine: the load average around it.

    Attributes
    ----------
    load_before, load_after : float
        1-minute load average just before and after the measurement (NaN: unknown).
    """

    load_before: float = math.nan
    load_after: float = math.nan

    def load_text(self) -> str:
        """``'before / after'``, as the report's tables print it."""
        return f"{_n(self.load_before)} / {_n(self.load_after)}"


@dataclass(frozen=True)
class RunPoint(LoadedPoint):
    """One whole run (``run --all`` or the chosen decoders) on a dataset of ``n_subjects``.

    Attributes
    ----------
    n_subjects, n_train : int
        Subjects of the dataset, of them train subjects.
    n_tasks, n_failed : int
        Tasks of the run; tasks that did not end ``ok``.
    wall, cpu : float
        Seconds: wall time and CPU time of the run's process tree.
    peak_tree_mb : float
        Peak memory of the whole process tree (sampled; PSS or RSS).
    peak_process_mb : float
        Peak RSS of its largest single process.
    task_time : dict
        Decoder name -> summed task wall time (s) over the run's tasks.
    load_before, load_after : float
        The load average around the run (:class:`LoadedPoint`).
    """

    n_subjects: int
    n_train: int
    n_tasks: int
    n_failed: int
    wall: float
    cpu: float
    peak_tree_mb: float
    peak_process_mb: float
    task_time: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialPoint(LoadedPoint):
    """Mean task time per decoder on datasets with ``n_trials`` localizer epochs per subject."""

    n_trials: int
    n_subjects: int
    task_time: dict[str, float] = field(default_factory=dict)
    n_failed: int = 0


@dataclass(frozen=True)
class BackendPoint(LoadedPoint):
    """One run of the same tasks on a backend (``local`` or ``dask``) with ``workers`` processes."""

    backend: str
    workers: int
    wall: float
    cpu: float
    n_tasks: int
    n_failed: int


@dataclass
class ScalingResult:
    """Everything measured by :func:`measure_scaling`; rendered by :func:`render_scaling`.

    Attributes
    ----------
    runs : list of RunPoint
        The subject curve, by increasing number of subjects.
    trials : list of TrialPoint
        The trial curve, by increasing trials per subject.
    backends : list of BackendPoint
        Local and dask runs of the same tasks.
    backend_note : str
        Why the backend comparison is missing or what it ran on.
    n_jobs : int
        ``--n-jobs`` of the subject curve's runs.
    decoders : tuple of str or None
        Decoders run (None: ``--all``).
    header : list of str
        Machine, versions, commit, date: printed above the tables.
    extrapolate_to : int
        Subjects of the extrapolated dataset.
    n_cores : int or None
        Cores available when measured; runs whose 1-min load average
        exceeded it are flagged in the report (:func:`busy_runs`).
    """

    runs: list[RunPoint] = field(default_factory=list)
    trials: list[TrialPoint] = field(default_factory=list)
    backends: list[BackendPoint] = field(default_factory=list)
    backend_note: str = ""
    n_jobs: int = -1
    decoders: tuple[str, ...] | None = None
    header: list[str] = field(default_factory=list)
    extrapolate_to: int = EXTRAPOLATE_TO
    n_cores: int | None = None


def busy_runs(result: ScalingResult) -> tuple[int, int]:
    """Count the runs whose 1-min load average before or after exceeded ``result.n_cores``; and all runs.

    The same rule as ``profile``'s "machine busy: re-run" verdict
    (:func:`tools.checks.machine_busy`).
    """
    from tools.checks import machine_busy

    points = [*result.runs, *result.trials, *result.backends]
    busy = sum(machine_busy((p.load_before,), (p.load_after,), result.n_cores) for p in points)
    return busy, len(points)


def task_times(rows: Sequence[Mapping], how: str = "sum") -> dict[str, float]:
    """Per decoder, the ``sum`` or ``mean`` of ``wall_time`` over the ``ok`` rows of ``tasks.jsonl``."""
    if how not in ("sum", "mean"):
        raise ValueError(f"how must be 'sum' or 'mean', got {how!r}.")
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.get("status") == "ok" and isinstance(row.get("wall_time"), int | float):
            times[str(row["decoder"])].append(float(row["wall_time"]))
    reduce = np.sum if how == "sum" else np.mean
    return {name: float(reduce(values)) for name, values in sorted(times.items())}


def decoder_fits(points: Sequence[tuple[float, Mapping[str, float]]]) -> dict[str, PowerFit | None]:
    """Per decoder, the power law of its time against the size (``(size, {decoder: time})`` points)."""
    names = sorted({name for _, times in points for name in times})
    return {
        name: try_fit([size for size, times in points if name in times],
                      [times[name] for _, times in points if name in times])
        for name in names
    }  # fmt: skip


@dataclass(frozen=True)
class Extrapolation:
    """The cost of an ``n_subjects`` dataset, extrapolated from the subject curve.

    Attributes
    ----------
    n_subjects : int
        Size extrapolated to.
    wall_whole_run : float
        The whole run's own power law at ``n_subjects`` (s).
    wall_by_decoder : float
        Sum of every decoder's power law at ``n_subjects`` divided by the
        parallelism the largest measured run achieved (its summed task time
        over its wall time), in seconds. Larger than ``wall_whole_run`` when
        one decoder grows faster than the rest: the whole-run fit averages
        the exponents over the measured range.
    task_time : dict
        Decoder -> its summed task time at ``n_subjects`` (s).
    peak_tree_mb : float
        Peak memory of the whole run at ``n_subjects`` (its own power law).
    """

    n_subjects: int
    wall_whole_run: float
    wall_by_decoder: float
    task_time: dict[str, float]
    peak_tree_mb: float


def extrapolate(runs: Sequence[RunPoint], n_subjects: int) -> Extrapolation:
    """Extrapolate the subject curve ``runs`` to ``n_subjects`` (NaN where no fit is possible)."""
    sizes = [r.n_subjects for r in runs]
    whole = try_fit(sizes, [r.wall for r in runs])
    memory = try_fit(sizes, [r.peak_tree_mb for r in runs])
    fits = decoder_fits([(r.n_subjects, r.task_time) for r in runs])
    per_decoder = {name: fit.predict(n_subjects) if fit else math.nan for name, fit in fits.items()}
    wall_by_decoder = math.nan
    if runs and per_decoder:
        largest = max(runs, key=lambda r: r.n_subjects)
        busy = sum(largest.task_time.values())
        parallelism = busy / largest.wall if largest.wall > 0 and busy > 0 else math.nan
        wall_by_decoder = sum(per_decoder.values()) / parallelism
    return Extrapolation(
        n_subjects,
        whole.predict(n_subjects) if whole else math.nan,
        wall_by_decoder,
        per_decoder,
        memory.predict(n_subjects) if memory else math.nan,
    )


def _s(value: float) -> str:
    """Seconds, with minutes or hours beside them when long."""
    if not math.isfinite(value):
        return "-"
    if value >= 3600:
        return f"{value:.0f} s ({value / 3600:.1f} h)"
    if value >= 120:
        return f"{value:.0f} s ({value / 60:.1f} min)"
    return f"{value:.1f} s"


def _n(value: float, fmt: str = ".1f") -> str:
    return format(value, fmt) if isinstance(value, int | float) and math.isfinite(value) else "-"


def _k(fit: PowerFit | None) -> str:
    if fit is None:
        return "-"
    r2 = "" if fit.n_points < 3 else f", R² {fit.r2:.2f}"
    return f"n^{fit.k:.2f}{r2}"


def render_scaling(result: ScalingResult) -> str:
    """Markdown of ``reports/scaling.md``: tables, fitted exponents, the extrapolated cost.

    Parameters
    ----------
    result : ScalingResult
        What was measured.

    Returns
    -------
    str
        The Markdown text (ends with a newline).
    """
    what = "every decoder (`--all`)" if not result.decoders else ", ".join(result.decoders)
    lines = [
        "# Cost curve: time and memory against the amount of work",
        "",
        "Written by `python -m tools profile --scaling` (`tools/scaling.py`); how to read it: "
        "[docs/performance.md](../docs/performance.md#cost-curve). Growth is a least-squares power law "
        "on log-log axes, time ~ n^k (k = 1: linear, k = 2: quadratic); R² is shown from three points on.",
        "",
        *[f"- {line}" for line in result.header],
        "",
    ]
    from tools.checks import BUSY_MARGIN

    busy, total = busy_runs(result)
    if busy:
        lines += [
            f"**Machine busy: re-run.** The 1-min load average exceeded the {result.n_cores} cores "
            f"(+{BUSY_MARGIN}) "
            f'before or after {busy} of {total} runs (column "load"): other jobs shared the machine, '
            "so these times are not verified. Re-run on an idle machine before trusting them.",
            "",
        ]
    runs = sorted(result.runs, key=lambda r: r.n_subjects)
    if runs:
        whole = try_fit([r.n_subjects for r in runs], [r.wall for r in runs])
        cpu = try_fit([r.n_subjects for r in runs], [r.cpu for r in runs])
        memory = try_fit([r.n_subjects for r in runs], [r.peak_tree_mb for r in runs])
        lines += [
            "## Whole run against the number of subjects",
            "",
            f"`python -m benchmark run --n-jobs {result.n_jobs} --force` with {what} on simulated "
            "datasets of n subjects (train : test as in the study, 15 : 14), data cache warm. Peak "
            "memory: the whole process tree, sampled every 0.5 s (sum of PSS); largest process: peak "
            "RSS of the largest single process. Load: 1-min load average before / after the run.",
            "",
            "| subjects (train + test) | tasks | failed | wall | CPU (s) | peak memory (MB) | "
            "largest process (MB) | load |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        lines += [
            f"| {r.n_subjects} ({r.n_train} + {r.n_subjects - r.n_train}) | {r.n_tasks} | {r.n_failed} | "
            f"{_s(r.wall)} | {_n(r.cpu)} | {_n(r.peak_tree_mb, '.0f')} | {_n(r.peak_process_mb, '.0f')} | "
            f"{r.load_text()} |"
            for r in runs
        ]
        lines += [
            "",
            f"Fitted growth: wall time ~ {_k(whole)}; CPU time ~ {_k(cpu)}; peak memory ~ {_k(memory)}.",
            "",
            "### Per decoder",
            "",
            "Summed task wall time (s) of each decoder over the run's tasks (one task per subject), "
            f"its growth, and its extrapolation to {result.extrapolate_to} subjects.",
            "",
        ]
        fits = decoder_fits([(r.n_subjects, r.task_time) for r in runs])
        head = " | ".join(f"n = {r.n_subjects}" for r in runs)
        lines += [
            f"| decoder | {head} | growth | at {result.extrapolate_to} subjects | per task at "
            f"{result.extrapolate_to} |",
            "| --- | " + " | ".join("---:" for _ in runs) + " | --- | ---: | ---: |",
        ]
        for name, fit in sorted(fits.items(), key=lambda kv: -(kv[1].k if kv[1] else -math.inf)):
            cells = " | ".join(_n(r.task_time.get(name, math.nan)) for r in runs)
            at = fit.predict(result.extrapolate_to) if fit else math.nan
            lines.append(f"| {name} | {cells} | {_k(fit)} | {_s(at)} | {_s(at / result.extrapolate_to)} |")
        ext = extrapolate(runs, result.extrapolate_to)
        largest = runs[-1]
        lines += [
            "",
            f"### What a {result.extrapolate_to}-subject dataset would cost",
            "",
            f"Extrapolated from {len(runs)} runs of {runs[0].n_subjects}-{largest.n_subjects} subjects, "
            f"same decoders, same `--n-jobs {result.n_jobs}` on this machine:",
            "",
            f"- whole run, its own power law ({_k(whole)}): **{_s(ext.wall_whole_run)}**;",
            f"- sum of the per-decoder power laws, packed as tightly as the {largest.n_subjects}-subject "
            f"run was: **{_s(ext.wall_by_decoder)}** (the more reliable figure when one decoder grows "
            "faster than the others: the whole-run fit averages the exponents over the measured range);",
            f"- peak memory of the whole run ({_k(memory)}): **{_n(ext.peak_tree_mb, '.0f')} MB**.",
            "",
            "An extrapolation beyond the measured range assumes the same power law holds; treat it as "
            "an order of magnitude.",
            "",
        ]
    trials = sorted(result.trials, key=lambda t: t.n_trials)
    if trials:
        fits = decoder_fits([(t.n_trials, t.task_time) for t in trials])
        head = " | ".join(f"{t.n_trials} epochs" for t in trials)
        lines += [
            "## Per decoder against trials per subject",
            "",
            f"Mean task wall time (s) on datasets of {trials[0].n_subjects} subjects with n localizer "
            "epochs per subject (imagine trials unchanged), `--n-jobs 1` so that tasks do not share the "
            "cores. Load: " + "; ".join(t.load_text() for t in trials) + ".",
            "",
            f"| decoder | {head} | growth |",
            "| --- | " + " | ".join("---:" for _ in trials) + " | --- |",
        ]
        for name, fit in sorted(fits.items(), key=lambda kv: -(kv[1].k if kv[1] else -math.inf)):
            cells = " | ".join(_n(t.task_time.get(name, math.nan), ".2f") for t in trials)
            lines.append(f"| {name} | {cells} | {_k(fit)} |")
        failed = sum(t.n_failed for t in trials)
        if failed:
            lines += ["", f"{failed} task(s) of these runs failed and are left out."]
        lines.append("")
    lines += ["## Dask LocalCluster against the local backend", ""]
    if result.backend_note:
        lines += [result.backend_note, ""]
    if result.backends:
        local = {b.workers: b.wall for b in result.backends if b.backend == "local"}
        lines += [
            "| backend | processes / workers | tasks | failed | wall | CPU (s) | wall / local's | load |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for b in sorted(result.backends, key=lambda b: (b.workers, b.backend != "local")):
            base = local.get(b.workers, math.nan)
            ratio = b.wall / base if base and math.isfinite(base) and base > 0 else math.nan
            lines.append(
                f"| {b.backend} | {b.workers} | {b.n_tasks} | {b.n_failed} | {_s(b.wall)} | {_n(b.cpu)} | "
                f"{_n(ratio, '.2f')} | {b.load_text()} |"
            )
        dask2 = [b.wall for b in result.backends if b.backend == "dask" and b.workers == 2]
        if dask2 and local.get(2):
            ratio = dask2[0] / local[2]
            lines += [
                "",
                f"dask with 2 workers: {ratio:.2f}x the local backend's wall time with 2 processes "
                f"(issue 14 target: within 15 %, i.e. <= 1.15x: {'met' if ratio <= 1.15 else 'NOT met'}).",
            ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plot_scaling(result: ScalingResult, path: Path) -> Path:
    """Draw the three curves (log-log, with their fitted power laws) into a PNG at ``path``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    (ax_runs, ax_decoders), (ax_trials, ax_backends) = fig.subplots(2, 2)
    runs = sorted(result.runs, key=lambda r: r.n_subjects)
    if runs:
        n = np.array([r.n_subjects for r in runs], dtype=float)
        wall = np.array([r.wall for r in runs])
        ax_runs.loglog(n, wall, "o", color="C0", label="whole run, wall")
        fit = try_fit(n, wall)
        if fit:
            grid = np.geomspace(n.min(), max(n.max(), result.extrapolate_to), 50)
            ax_runs.loglog(grid, [fit.predict(x) for x in grid], "-", color="C0", alpha=0.6,
                           label=f"fit n^{fit.k:.2f}")  # fmt: skip
        ax_runs.axvline(result.extrapolate_to, color="grey", lw=0.8, ls=":")
        ax_runs.set(xlabel="subjects", ylabel="wall time (s)", title="Whole run against subjects")
        ax_mem = ax_runs.twinx()
        ax_mem.plot(n, [r.peak_tree_mb for r in runs], "s--", color="C3", label="peak memory")
        ax_mem.set_ylabel("peak memory of the run (MB)", color="C3")
        memory = [r.peak_tree_mb for r in runs if math.isfinite(r.peak_tree_mb) and r.peak_tree_mb > 0]
        ax_mem.set_ylim(0, 1.4 * max(memory, default=1.0))
        handles = ax_runs.get_legend_handles_labels()[0] + ax_mem.get_legend_handles_labels()[0]
        ax_runs.legend(handles=handles, fontsize=8, loc="lower right")
    else:
        ax_runs.set_title("Whole run against subjects: not measured")
    _per_decoder(ax_decoders, [(r.n_subjects, r.task_time) for r in runs], "subjects",
                 "summed task time (s)", "Per decoder against subjects")  # fmt: skip
    trials = sorted(result.trials, key=lambda t: t.n_trials)
    _per_decoder(ax_trials, [(t.n_trials, t.task_time) for t in trials], "localizer epochs per subject",
                 "mean task time (s)", "Per decoder against trials per subject")  # fmt: skip
    if result.backends:
        bars = sorted(result.backends, key=lambda b: (b.workers, b.backend != "local"))
        ax_backends.bar(range(len(bars)), [b.wall for b in bars],
                        color=["C0" if b.backend == "local" else "C1" for b in bars])  # fmt: skip
        ax_backends.set_xticks(range(len(bars)), [f"{b.backend}\n{b.workers} proc." for b in bars])
        ax_backends.set(ylabel="wall time (s)", title="Same tasks: local vs dask LocalCluster")
    else:
        ax_backends.set_title("dask vs local: not measured")
        ax_backends.text(0.5, 0.5, result.backend_note or "-", ha="center", va="center", wrap=True,
                         transform=ax_backends.transAxes, fontsize=8)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _per_decoder(ax, points: Sequence[tuple[float, Mapping[str, float]]], xlabel: str, ylabel: str,
                 title: str) -> None:  # fmt: skip
    """One log-log line per decoder, labelled with its fitted exponent."""
    if not points:
        ax.set_title(f"{title}: not measured")
        return
    names = sorted({name for _, times in points for name in times})
    for i, name in enumerate(names):
        xs = [size for size, times in points if name in times]
        ys = [times[name] for _, times in points if name in times]
        fit = try_fit(xs, ys)
        label = f"{name} (n^{fit.k:.2f})" if fit else name
        ax.loglog(xs, ys, marker="o", color=f"C{i % 10}", ls="-" if i < 10 else "--", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=7, ncols=2)


def write_scaling(result: ScalingResult, out: Path) -> list[Path]:
    """Write ``scaling.md``, ``scaling.png`` and the raw numbers ``scaling.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "scaling.md"
    md.write_text(render_scaling(result))
    png = plot_scaling(result, out / "scaling.png")
    raw = out / "scaling.json"
    raw.write_text(json.dumps(asdict(result), indent=1, default=str) + "\n")
    return [md, png, raw]


def load_scaling(path: Path) -> ScalingResult:
    """Read a ``scaling.json`` written by :func:`write_scaling` back into a :class:`ScalingResult`."""
    raw = json.loads(Path(path).read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("runs"), list):
        raise ValueError(f"{path}: expected the scaling.json of `profile --scaling` (a 'runs' list).")
    decoders = raw.get("decoders")
    return ScalingResult(
        runs=[RunPoint(**r) for r in raw["runs"]],
        trials=[TrialPoint(**t) for t in raw.get("trials", [])],
        backends=[BackendPoint(**b) for b in raw.get("backends", [])],
        backend_note=raw.get("backend_note", ""),
        n_jobs=raw.get("n_jobs", -1),
        decoders=tuple(decoders) if decoders else None,
        header=list(raw.get("header", [])),
        extrapolate_to=raw.get("extrapolate_to", EXTRAPOLATE_TO),
        n_cores=raw.get("n_cores"),
    )


def rerender(path: Path, out: Path) -> list[Path]:
    """Render ``scaling.md`` and ``scaling.png`` again from a ``scaling.json`` (no measuring)."""
    result = load_scaling(path)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "scaling.md"
    md.write_text(render_scaling(result))
    return [md, plot_scaling(result, out / "scaling.png")]


# ----------------------------------------------------------------------------
# measuring
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScalingOptions:
    """What ``profile --scaling`` measures.

    Attributes
    ----------
    subjects : tuple of int
        Subject counts of the whole-run curve.
    trials_per_class : tuple of int
        Localizer epochs per class of the trial curve (10 classes); empty
        skips it.
    decoders : tuple of str or None
        Decoders of every run (None: ``--all``).
    n_jobs : int
        ``--n-jobs`` of the subject curve's runs.
    backends : bool
        Whether to compare the dask backend with the local one (on the
        smallest subject count's dataset).
    out : Path
        Folder of ``scaling.md``, ``scaling.png`` and ``scaling.json``.
    extrapolate_to : int
        Subjects of the extrapolated dataset.
    dataset : callable or None
        ``dataset(n_subjects, n_localizer_per_class) -> root``; None
        simulates (and caches) the datasets with :func:`simulated_dataset`.
    """

    subjects: tuple[int, ...] = DEFAULT_SUBJECTS
    trials_per_class: tuple[int, ...] = DEFAULT_TRIALS_PER_CLASS
    decoders: tuple[str, ...] | None = None
    n_jobs: int = -1
    backends: bool = True
    out: Path = Path("reports")
    extrapolate_to: int = EXTRAPOLATE_TO
    dataset: DatasetFactory | None = None

    def __post_init__(self) -> None:
        if not self.subjects or any(n < 1 for n in self.subjects):
            raise ValueError(f"subjects must be positive subject counts, got {self.subjects}.")
        if any(n < 1 for n in self.trials_per_class):
            raise ValueError(f"trials per class must be >= 1, got {self.trials_per_class}.")
        for n in self.subjects:
            split_subjects(n)  # raises on a count the study's IDs cannot hold


def simulated_dataset(n_subjects: int, n_localizer_per_class: int = 48) -> Path:
    """Root of a simulated dataset of ``n_subjects`` (split by :func:`split_subjects`), cached."""
    from datasets.default import default_dataset
    from datasets.simulate import SimulationConfig

    n_train, n_test = split_subjects(n_subjects)
    return default_dataset(
        SimulationConfig(n_train=n_train, n_test=n_test, n_localizer_per_class=n_localizer_per_class)
    )


def _failed(rows: Sequence[Mapping], returncode: int, stderr: str, what: str) -> int:
    bad = sum(row.get("status") != "ok" for row in rows)
    if returncode not in (0, 1) or not rows:
        logger.warning("%s: exit code %d, %d rows: %s", what, returncode, len(rows), stderr.strip()[-500:])
        bad = max(bad, 1)
    return bad


def measure_scaling(options: ScalingOptions, work: Path, *, timeout: float = 1800.0) -> ScalingResult:
    """Run the three curves; return what was measured.

    Parameters
    ----------
    options : ScalingOptions
        What to measure.
    work : Path
        Folder of the runs' output folders.
    timeout : float
        ``--timeout`` of every run's tasks.
    """
    from benchmark import provenance
    from tools.runs import run_cli, warm_data_cache
    from tools.timing import available_cores, machine_lines

    make = options.dataset or simulated_dataset
    result = ScalingResult(n_jobs=options.n_jobs, decoders=options.decoders,
                           extrapolate_to=options.extrapolate_to, n_cores=available_cores())  # fmt: skip
    result.header = [
        *machine_lines(),
        f"commit {provenance.git_revision()}, measured {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]

    def timed_run(data: Path, out: Path, n_jobs: int, extra: Sequence[str] = ()):
        warm_data_cache(data)
        before = os.getloadavg()[0]
        run = run_cli(data, out, n_jobs=n_jobs, decoders=options.decoders, timeout=timeout,
                      extra_args=extra)  # fmt: skip
        return run, before, os.getloadavg()[0]

    for n in sorted(set(options.subjects)):
        data = make(n, 48)
        logger.info("scaling: whole run on %d subjects (%s)", n, data)
        run, before, after = timed_run(data, work / f"subjects-{n}", options.n_jobs)
        result.runs.append(
            RunPoint(
                n_subjects=n,
                n_train=len({row.get("subject") for row in run.rows if row.get("split") == "train"}),
                n_tasks=len(run.rows),
                n_failed=_failed(run.rows, run.returncode, run.stderr, f"{n} subjects"),
                wall=run.timing.wall,
                cpu=run.timing.cpu,
                peak_tree_mb=run.peak_tree_mb,
                peak_process_mb=run.max_rss_mb,
                task_time=task_times(run.rows, "sum"),
                load_before=before,
                load_after=after,
            )
        )
    for per_class in sorted(set(options.trials_per_class)):
        data = make(TRIAL_CURVE_SUBJECTS, per_class)
        logger.info("scaling: %d localizer epochs per subject (%s)", per_class * N_CLASSES, data)
        run, before, after = timed_run(data, work / f"trials-{per_class * N_CLASSES}", 1)
        result.trials.append(
            TrialPoint(
                n_trials=per_class * N_CLASSES,
                n_subjects=TRIAL_CURVE_SUBJECTS,
                task_time=task_times(run.rows, "mean"),
                n_failed=_failed(run.rows, run.returncode, run.stderr, f"{per_class} epochs per class"),
                load_before=before,
                load_after=after,
            )
        )
    if not options.backends:
        result.backend_note = "Not measured (`--scaling-no-backends`)."
    elif importlib.util.find_spec("distributed") is None:
        result.backend_note = (
            'Not measured: `distributed` is not installed (`pip install -e ".[dask]"`), so the dask '
            "backend cannot run."
        )
    else:
        n = min(options.subjects)
        data = make(n, 48)
        result.backend_note = (
            f"The same tasks ({'every decoder' if not options.decoders else ', '.join(options.decoders)} "
            f"x {n} subjects), data cache warm: the local backend with `--n-jobs W` forked processes "
            "against `--backend dask --n-jobs W` (a LocalCluster of W single-threaded worker processes, "
            "started and closed by the run, so its start-up is included)."
        )
        for workers in BACKEND_WORKERS:
            for backend in ("local", "dask"):
                extra = ("--backend", "dask") if backend == "dask" else ()
                run, before, after = timed_run(data, work / f"{backend}-{workers}", workers, extra)
                result.backends.append(
                    BackendPoint(
                        backend, workers, run.timing.wall, run.timing.cpu, len(run.rows),
                        _failed(run.rows, run.returncode, run.stderr, f"{backend} x {workers}"),
                        before, after,
                    )
                )  # fmt: skip
    return result


def run_scaling(options: ScalingOptions, work: Path, *, timeout: float = 1800.0) -> list[Path]:
    """Measure the cost curve and write ``scaling.md``, ``scaling.png`` and ``scaling.json``."""
    result = measure_scaling(options, work, timeout=timeout)
    return write_scaling(result, options.out)
