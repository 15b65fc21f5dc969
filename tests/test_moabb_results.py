"""results.csv of a real run, analysed by MOABB's own functions (the MOABB-compatibility contract).

A small simulated dataset (4 train + 1 test subjects) is run through the
harness with three decoders, the oracle included; MOABB 1.7's statistics and
plots must then take ``results.csv`` as it is.
"""

import numpy as np
import pandas as pd
import pytest

from benchmark.config import RunConfig
from benchmark.experiment import run_benchmark
from datasets.simulate import SimulationConfig, simulate_dataset

SMALL = SimulationConfig(n_train=4, n_test=1, n_localizer_per_class=4, n_imagine_per_class=(3, 3), seed=5)


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    base = tmp_path_factory.mktemp("moabb")
    simulate_dataset(base / "data", SMALL)
    out = base / "reports"
    config = RunConfig(data=base / "data", out=out, decoders=("chance", "lda-peak", "oracle"),
                       localizer_folds=0, progress=False, n_jobs=2)  # fmt: skip
    summary = run_benchmark(config)
    assert not summary.failures, summary.failures
    return out


@pytest.fixture
def restore_matplotlib_style():
    """``moabb.analysis.plotting`` restyles matplotlib globally on import: undo it after the test."""
    import matplotlib

    before = dict(matplotlib.rcParams)
    yield
    matplotlib.rcParams.update(before)


def test_results_csv_contract(run_out):
    results = pd.read_csv(run_out / "results.csv")
    assert np.isfinite(results["score"]).all()
    assert set(results["dataset"]) == {"imagine-simulated"}
    assert set(results["pipeline"]) == {"chance", "lda-peak"}  # the oracle is not ranked
    assert len(results) == 2 * 4 and (results["split"] == "train").all()
    assert (results["n_classes"] == 10).all() and (results["samples_test"] == 30).all()
    everything = pd.read_csv(run_out / "results_all.csv")
    assert len(everything) == 3 * 5 and everything.loc[everything["split"] == "test", "score"].isna().all()


@pytest.mark.slow  # importing moabb's analysis takes 5-15 s
# moabb 1.7 and seaborn use matplotlib and pandas APIs that warn of their deprecation
@pytest.mark.filterwarnings(
    "ignore::FutureWarning",
    "ignore::DeprecationWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::UserWarning",
)
def test_moabb_analysis_runs_on_results_csv(run_out, tmp_path, restore_matplotlib_style):
    from moabb import analysis
    from moabb.analysis.meta_analysis import compute_dataset_statistics, find_significant_differences
    from moabb.analysis.plotting import score_plot

    results = pd.read_csv(run_out / "results.csv")
    stats = compute_dataset_statistics(results)
    assert set(stats["dataset"]) == {"imagine-simulated"} and (stats["nsub"] == 4).all()
    assert stats["p"].between(0, 1).all()
    p_values, t_values = find_significant_differences(stats)
    assert set(p_values.index) == {"chance", "lda-peak"}
    assert t_values.shape == (2, 2)
    analysis.analyze(results, str(tmp_path), name="imagine", plot=True)
    for name in ("data.csv", "stats.csv", "scores.pdf", "ordering.pdf"):
        assert (tmp_path / "imagine" / name).stat().st_size > 0, name
    fig, _ = score_plot(results, chance_level="auto")
    assert fig.axes
    # the project's own exact p-values agree with MOABB's where MOABB enumerates (4 subjects, no ties)
    pairwise = pd.read_csv(run_out / "pairwise.csv").set_index(["decoder_a", "decoder_b"])
    theirs = stats.set_index(["pipe1", "pipe2"])["p"]
    wide = results.pivot(index="subject", columns="pipeline", values="score")
    diff = wide["lda-peak"] - wide["chance"]
    if (diff != 0).all() and diff.abs().nunique() == len(diff):  # ties: MOABB's float comparison differs
        assert pairwise.loc[("lda-peak", "chance"), "p_a_better"] == pytest.approx(
            theirs[("lda-peak", "chance")]
        )
