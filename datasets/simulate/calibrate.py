"""Measure how decodable the simulator's data are (calibration check).

Private helper, run by hand when the simulation model changes::

    python -m datasets.simulate.calibrate --subjects 16
    python -m datasets.simulate.calibrate --subjects 6 --set class_separation=3.0
    python -m datasets.simulate.calibrate --subjects 6 --regime brief

For each subject it simulates the data in memory (nothing is written) and
reports

- the localizer accuracy of a shrinkage LDA on the z-scored MEG channels at
  the best single time point (5-fold stratified CV), and
- the accuracy of that LDA, trained on the whole localizer at its best time
  point, on the imagine epochs, with the log-probabilities averaged over
  0.3-3.5 s, for ``alpha`` = 0, 0.25 and 1.

Imagine data are affine in ``alpha`` (nothing random depends on it), so the
three imagine sets are built from two simulations.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from .blocks import simulate_subject
from .config import TEST_SUBJECTS, TRAIN_SUBJECTS, SimulationConfig

logger = logging.getLogger(__name__)


def _lda() -> Any:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))


def calibrate_subject(
    subject: str,
    config: SimulationConfig,
    alphas: Sequence[float] = (0.0, 0.25, 1.0),
    search: tuple[float, float] = (0.05, 0.5),
    imagine_window: tuple[float, float] = (0.3, 3.5),
) -> dict[str, Any]:
    """Return localizer and imagine accuracies of one simulated subject.

    Parameters
    ----------
    subject : str
        Subject ID (``sub-XX``).
    config : SimulationConfig
        Simulation parameters (``alpha`` is overridden by ``alphas``).
    alphas : sequence of float
        Imagery transfer weights to evaluate.
    search : tuple of float
        Localizer times (s) searched for the best time point.
    imagine_window : tuple of float
        Imagine times (s) over which log-probabilities are averaged.

    Returns
    -------
    result : dict
        ``localizer`` (best CV accuracy), ``peak_time`` (s), ``n_imagine``
        and ``imagine`` (``{alpha: accuracy}``).
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    sim0 = simulate_subject(subject, dataclasses.replace(config, alpha=0.0))
    sim1 = simulate_subject(subject, dataclasses.replace(config, alpha=1.0))
    meg = sim0.truth["ch_names"].shape[0]
    X = sim0.localizer.data[:, :meg]
    y = sim0.localizer.labels
    times = sim0.truth["localizer_times"]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    candidates = np.flatnonzero((times >= search[0]) & (times <= search[1]))
    scores = [cross_val_score(_lda(), X[:, :, i], y, cv=cv).mean() for i in candidates]
    best = int(candidates[int(np.argmax(scores))])
    model = _lda().fit(X[:, :, best], y)
    img_times = sim0.truth["imagine_times"]
    window = np.flatnonzero((img_times >= imagine_window[0]) & (img_times <= imagine_window[1]))
    imagine = {}
    for alpha in alphas:
        data = (1 - alpha) * sim0.imagine.data[:, :meg, window] + alpha * sim1.imagine.data[:, :meg, window]
        n, n_ch, n_t = data.shape
        log_proba = model.predict_log_proba(data.transpose(0, 2, 1).reshape(-1, n_ch))
        predicted = log_proba.reshape(n, n_t, -1).mean(axis=1).argmax(axis=1)
        imagine[float(alpha)] = float(np.mean(predicted == sim0.imagine.labels))
    return {
        "localizer": float(max(scores)),
        "peak_time": float(times[best]),
        "n_imagine": int(len(sim0.imagine.labels)),
        "subject_gain": sim0.metadata["subject_gain"],
        "imagine": imagine,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the calibration check from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=8, help="number of subjects (train, then test IDs)")
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. snr=1.5")
    parser.add_argument(
        "--regime", default="default", help="named regime of datasets.regimes (default: default)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = type(getattr(SimulationConfig(), key))(value)
    from ..regimes import regime_config

    config = regime_config(args.regime, **overrides)
    subjects = (TRAIN_SUBJECTS + TEST_SUBJECTS)[: args.subjects]
    results = {}
    for subject in subjects:
        res = calibrate_subject(subject, config)
        results[subject] = res
        logger.info(
            "%s  localizer %.3f at %.2f s (gain %.2f)  imagine %s (n=%d)",
            subject,
            res["localizer"],
            res["peak_time"],
            res["subject_gain"],
            "  ".join(f"a={a:g}: {acc:.3f}" for a, acc in res["imagine"].items()),
            res["n_imagine"],
        )
    loc = np.array([r["localizer"] for r in results.values()])
    logger.info("localizer: mean %.3f, min %.3f, max %.3f", loc.mean(), loc.min(), loc.max())
    n_total = sum(r["n_imagine"] for r in results.values())
    for alpha in next(iter(results.values()))["imagine"]:
        pooled = sum(r["imagine"][alpha] * r["n_imagine"] for r in results.values()) / n_total
        logger.info("imagine, alpha=%g: pooled accuracy %.3f over %d trials", alpha, pooled, n_total)


if __name__ == "__main__":
    main()
