"""The robustness matrix: every decoder on every simulation regime x alpha.

:func:`run_robustness` (``python -m benchmark robustness``) runs each cell
(one simulated dataset of :mod:`datasets.regimes` at one transfer weight)
through :func:`benchmark.sweep.run_cell` and hands the rows to
:func:`benchmark.robustness_report.write_robustness_report`, which reads each
decoder's pooled imagine accuracy against the transfer ceiling.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.robustness_report import write_robustness_report
from benchmark.robustness_tables import CEILING, POWER_TIMING_ORACLE, TIMING_ORACLE, induced_regimes
from benchmark.sweep import COLUMNS, run_cell

logger = logging.getLogger(__name__)

#: Transfer weights of the robustness matrix.
ROBUSTNESS_ALPHAS: tuple[float, ...] = (0.0, 0.5, 1.0)

#: Simulated train subjects per cell of the full matrix.
ROBUSTNESS_N_TRAIN = 4

#: The ``--quick`` subset: a couple of regimes and decoders, few subjects and trials.
QUICK: dict = {
    "regimes": ("default", "brief"),
    "alphas": (0.0, 1.0),
    "decoders": ("lda-peak", "official-example", CEILING, TIMING_ORACLE),
    "simulation": {"n_train": 2, "n_localizer_per_class": 12, "n_imagine_per_class": (3, 3)},
}


def run_robustness(
    out: Path,
    *,
    regimes: Sequence[str] | None = None,
    alphas: Sequence[float] = ROBUSTNESS_ALPHAS,
    decoders: Sequence[str] | None = None,
    simulation: dict | None = None,
    run: dict | None = None,
    home: Path | None = None,
) -> pd.DataFrame:
    """Run decoders on every regime x alpha and write the robustness report.

    Each cell is one simulated dataset (train subjects only, cached like the
    default one) run through :func:`run_cell`; the localizer CV is skipped
    unless ``run`` sets ``localizer_folds``. The ceiling decoder
    (:data:`CEILING`) is always added.

    Parameters
    ----------
    out : Path
        Report folder: ``robustness.md``, ``robustness.csv`` (one row per
        decoder x regime x alpha), ``robustness-subjects.csv`` (one row per
        task) and ``robustness.png``; each cell's full reports go to
        ``out/robustness/<regime>/alpha-<alpha>/``.
    regimes : sequence of str or None
        Names in :data:`datasets.regimes.REGIMES` (None: all, in order).
    alphas : sequence of float
        Transfer weights.
    decoders : sequence of str or None
        Decoder names (None: all registered, the power timing oracle only on
        the regimes with an induced code: :func:`default_decoders`).
    simulation : dict or None
        Other :class:`datasets.simulate.SimulationConfig` fields for every
        cell (default: :data:`ROBUSTNESS_N_TRAIN` train subjects, no test
        subjects); a field a regime sets is refused.
    run : dict or None
        Overrides of :class:`benchmark.config.RunConfig` (``n_jobs``,
        ``seed``, ``localizer_folds``, ...). Its ``fit_cache`` is
        ``out/robustness/fits`` unless set: one folder for the whole matrix,
        so a fit is shared by every cell whose localizers are identical (the
        alphas of a regime, and regimes that change only the imagery, such as
        ``default``, ``brief``, ``reactivations`` and ``late``): the key holds
        the localizers' content (:mod:`benchmark.fits`).
    home : Path or None
        Cache folder of the simulated datasets.

    Returns
    -------
    DataFrame
        One row per task: ``regime, alpha`` and the sweep's columns.

    Raises
    ------
    ValueError
        If a regime is unknown or an alpha is outside [0, 1], before anything runs.
    """
    import time

    from datasets.default import array_cache_dir
    from datasets.regimes import REGIMES, regime_config

    names = list(regimes) if regimes else list(REGIMES)
    unknown = [r for r in names if r not in REGIMES]
    if unknown:
        raise ValueError(f"unknown regime(s) {', '.join(unknown)}; valid regimes: {', '.join(REGIMES)}")
    bad = [a for a in alphas if not 0.0 <= float(a) <= 1.0]
    if bad:
        raise ValueError(f"alphas must lie in [0, 1], got {bad}")
    chosen = list(dict.fromkeys([*decoders, CEILING])) if decoders else None
    fields = {"n_train": ROBUSTNESS_N_TRAIN, "n_test": 0, **(simulation or {})}
    run = {"localizer_folds": 0, **(run or {})}
    cell_run = {"fit_cache": Path(out) / "robustness" / "fits", **run}  # the report's settings name no path
    configs = {
        (r, float(a)): regime_config(r, **{**fields, "alpha": float(a)}) for r in names for a in alphas
    }
    warn_if_short_of_space(list(configs.values()), home)
    frames, timings, hyper = [], [], {}
    induced = induced_regimes()
    everyone = {} if decoders else {code: default_decoders(code) for code in (False, True)}  # one discovery
    for (regime, alpha), sim in configs.items():
        start = time.perf_counter()
        cell_out = Path(out) / "robustness" / regime / f"alpha-{alpha:g}"
        cell_decoders = chosen if decoders else everyone[regime in induced]
        frame, root = run_cell(sim, cell_out, decoders=cell_decoders, run=cell_run, home=home)
        elapsed = time.perf_counter() - start
        timings.append({"regime": regime, "alpha": alpha, "tasks": len(frame), "wall_time_s": elapsed})
        if regime not in hyper:
            hyper[regime] = decoder_hyperparameters(
                root,
                cell_decoders,
                seed=run.get("seed", 0),
                cache_dir=cell_run.get("data_cache", array_cache_dir(home)),
            )
        frame.insert(0, "alpha", alpha)
        frame.insert(0, "regime", regime)
        frames.append(frame.reindex(columns=["regime", *COLUMNS]))
        logger.info("robustness %s alpha=%g: %d tasks in %.1f s", regime, alpha, len(frame), elapsed)
    results = pd.concat(frames, ignore_index=True)
    write_robustness_report(
        results,
        Path(out),
        hyperparameters=hyper,
        timings=pd.DataFrame(timings),
        settings={"simulation": fields, "run": run, "regimes": names, "alphas": [float(a) for a in alphas]},
    )
    return results


#: Disk space one simulated train subject takes in a cell (its FIF files and its array cache), measured:
#: 0.7 GB per 4-subject cell in the full matrix (23 GB for 33 cells).
BYTES_PER_SUBJECT = 180 * 10**6


def warn_if_short_of_space(configs: Sequence, home: Path | None) -> int:
    """Log a warning when the datasets still to simulate may not fit on ``home``'s disk.

    Parameters
    ----------
    configs : sequence of SimulationConfig
        The cells' simulations; those already in ``home`` cost nothing.
    home : Path or None
        Where they are cached (None: ``$IMAGINE_BENCH_HOME``).

    Returns
    -------
    int
        The bytes the missing datasets are expected to take (:data:`BYTES_PER_SUBJECT` each subject).
    """
    import shutil

    from datasets.default import cache_home, is_generated

    folder = Path(home) if home is not None else cache_home()
    needed = sum(BYTES_PER_SUBJECT * (c.n_train + c.n_test) for c in configs if not is_generated(c, home))
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free
    if needed and free < needed:
        logger.warning(
            "%s has %.1f GB free; the cells' datasets still to simulate need about %.1f GB (datasets and "
            "array cache): the run may stop with a full disk. Free some space or set IMAGINE_BENCH_HOME to "
            "another disk.",
            folder, free / 1e9, needed / 1e9,
        )  # fmt: skip
    return needed


def default_decoders(induced: bool) -> list[str]:
    """Every registered decoder, without :data:`POWER_TIMING_ORACLE` unless the regime has an induced code.

    The power timing oracle only splits the power decoders' gap
    (:func:`benchmark.robustness_tables.gap_table`), which exists where the
    class code includes induced power; elsewhere those decoders sit at chance
    and it would cost a full fit per cell (its fit reads the truth, so it is
    not shared across alphas).
    """
    from benchmark.registry import discover

    names = [spec.name for spec in discover(strict=False).select(None)]
    return names if induced else [name for name in names if name != POWER_TIMING_ORACLE]


def decoder_hyperparameters(
    root: Path, decoders: Sequence[str] | None, seed: int = 0, cache_dir: Path | None = None
) -> dict[str, str]:
    """Every parameter of each decoder's fresh estimator, built from ``root``'s first subject.

    Parameters
    ----------
    root : Path
        A dataset root; its first subject gives the :class:`DecoderContext`.
    decoders : sequence of str or None
        Decoder names (None: all registered).
    seed : int
        ``random_state`` of the context.
    cache_dir : Path or None
        The array cache the subject is read through (None: its FIF files).

    Returns
    -------
    dict of str to str
        Decoder name -> ``repr`` of its unfitted estimator with every
        parameter shown (scikit-learn's ``print_changed_only=False``),
        without memory addresses (:func:`stable_repr`).
    """
    from sklearn import config_context

    from benchmark.registry import discover
    from benchmark.tasks import make_context
    from datasets.adapter import ChallengeDataset

    dataset = ChallengeDataset(root, cache_dir=cache_dir)
    context = make_context(dataset.load(dataset.subjects[0]), seed)
    out = {}
    for spec in discover(strict=False).select(list(decoders) if decoders else None):
        estimator = spec.factory(context)
        with config_context(print_changed_only=False):
            text = (
                estimator.__repr__(N_CHAR_MAX=100_000)
                if hasattr(estimator, "get_params")
                else repr(estimator)
            )
        out[spec.name] = stable_repr(" ".join(text.split()))
    return out


def stable_repr(text: str) -> str:
    """Drop the memory addresses of functions and objects from a ``repr``.

    ``<function oas_covariance at 0x7f63107896c0>`` becomes
    ``<function oas_covariance>``, so that the report of two identical runs
    is identical.
    """
    return re.sub(r" at 0x[0-9a-fA-F]+>", ">", text)
