"""Timing: fit + predict of every registered decoder on one full-size subject.

One benchmark per decoder found by :func:`benchmark.registry.discover`: a
fresh estimator from the factory (built in the untimed setup), ``fit`` on the
subject's 480 localizer epochs (306 channels x 121 times), then
``predict_proba_imagine`` on its imagine epochs. One BLAS thread, as the
runner gives each task with ``--n-jobs 2``. The subject is the first train
subject of the profile's simulated dataset (2 train + 1 test, generated once
into ``$IMAGINE_BENCH_HOME``); decoders that use other subjects get the other
two subjects' localizers, read lazily, and the oracle the simulation's
truth: the runner's own :func:`benchmark.tasks.fit_params`. Nothing asserts on
time: ``tox -e bench`` writes the timings to ``reports/runtime.json``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from benchmark import tasks
from benchmark.registry import discover

pytestmark = pytest.mark.benchmark

SPECS = list(discover(strict=False).specs.values())
ROUNDS = 2


@pytest.fixture(scope="module")
def subject(tmp_path_factory) -> SimpleNamespace:
    """The first train subject, loaded once through the array cache."""
    from benchmark.tasks import make_context
    from datasets.adapter import ChallengeDataset
    from tools.profile import profile_dataset

    dataset = ChallengeDataset(profile_dataset(quick=False), cache_dir=tmp_path_factory.mktemp("arrays"))
    name = dataset.subjects_in("train")[0]
    data = dataset.load(name)
    return SimpleNamespace(data=data, dataset=dataset, context=make_context(data, seed=0))


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_bench_fit_predict(benchmark, spec, subject):
    """Fit on the localizer and predict the imagine epochs (a fresh estimator per round)."""
    data = subject.data
    X, y, X_img = data.localizer.X, data.localizer_labels, data.imagine.X
    fit_params = tasks.fit_params(spec, data, subject.dataset)  # as the runner: imagine, others, truth

    def setup():
        return (spec.factory(subject.context),), {}

    def run(estimator):
        with threadpool_limits(limits=1):
            estimator.fit(X, y, **fit_params)
            return estimator.predict_proba_imagine(X_img)

    proba = benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    assert np.shape(proba) == (len(X_img), 10), f"{spec.name}: unexpected probability shape"
    benchmark.extra_info["family"] = spec.family
    benchmark.extra_info["localizer_shape"] = list(X.shape)
    benchmark.extra_info["imagine_shape"] = list(X_img.shape)
