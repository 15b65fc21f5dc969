"""Timing: batched time-resolved LDA vs MNE's SlidingEstimator, 5-fold CV.

One full-size simulated subject (480 epochs x 306 channels x 121 times, rank
69 as after tSSS, 10 classes). Both pipelines run with one BLAS thread and
``n_jobs=1`` (on 2 cores, BLAS threads plus workers oversubscribe). Nothing
here asserts on time: pytest-benchmark records the timings (``tox -e bench``
writes them to ``reports/runtime.json``), and the peak accuracies go to
``extra_info`` so the two runs can be compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

pytestmark = pytest.mark.benchmark

N_EPOCHS, N_CHANNELS, N_TIMES, RANK, N_CLASSES = 480, 306, 121, 69, 10
N_SPLITS = 5


def simulate_subject(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Simulated full-size localizer: rank-69 mixture plus a class signal.

    The class patterns live in the 69 sources, so the 306 channels keep rank
    69; their amplitude follows an evoked-like envelope (chance at the
    start, a peak, then a sustained plateau).
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(N_EPOCHS) % N_CLASSES)
    sources = rng.normal(size=(N_EPOCHS, RANK, N_TIMES))
    patterns = rng.normal(size=(N_CLASSES, RANK))
    t = np.arange(N_TIMES)
    envelope = 0.15 * (
        np.exp(-0.5 * ((t - 0.4 * N_TIMES) / (0.1 * N_TIMES)) ** 2) + 0.3 * (t > 0.3 * N_TIMES)
    )
    sources += patterns[y][:, :, None] * envelope
    mixing = rng.normal(size=(N_CHANNELS, RANK)) * 1e-12  # Tesla-sized values
    return mixing @ sources, y


@pytest.fixture(scope="module")
def subject() -> tuple[np.ndarray, np.ndarray]:
    """One simulated full-size subject, shared by the benchmarks."""
    return simulate_subject()


def _cv():
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(N_SPLITS, shuffle=True, random_state=0)


def test_bench_batched_lda_cv(benchmark, subject):
    """``cross_val_accuracy_over_time``: all time points in one batched fit."""
    from decoders.toolkit.lda import cross_val_accuracy_over_time

    X, y = subject

    def run():
        with threadpool_limits(limits=1):
            return cross_val_accuracy_over_time(X, y, _cv(), shrinkage="auto", scale=True)

    scores = benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=1)
    assert scores.shape == (N_SPLITS, N_TIMES)
    benchmark.extra_info["peak_accuracy"] = float(scores.mean(axis=0).max())
    benchmark.extra_info["shape"] = list(X.shape)


@pytest.mark.slow
def test_bench_sliding_estimator_lda_cv(benchmark, subject):
    """Reference: SlidingEstimator(StandardScaler + LDA) + cross_val_multiscore."""
    from mne.decoding import SlidingEstimator, cross_val_multiscore
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = subject
    sliding = SlidingEstimator(
        make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")),
        scoring="accuracy",
        n_jobs=1,
        verbose=False,
    )

    def run():
        with threadpool_limits(limits=1):
            return cross_val_multiscore(sliding, X, y, cv=_cv(), n_jobs=1, verbose=False)

    scores = benchmark.pedantic(run, rounds=1, iterations=1)
    assert scores.shape == (N_SPLITS, N_TIMES)
    benchmark.extra_info["peak_accuracy"] = float(scores.mean(axis=0).max())
    benchmark.extra_info["shape"] = list(X.shape)
