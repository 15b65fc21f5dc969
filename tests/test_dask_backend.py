"""The dask.distributed backend: same scores as the local one, failures recorded, timeouts cancelled.

Workers are separate processes (``processes=True``, as on a real cluster). They
do not see a path the test adds to ``sys.path`` after they started, so the
fault test puts the throwaway decoder package on the workers' path with
``client.run(site.addsitedir, path)`` (``sys.path.insert`` would be pickled
with a copy of this process's list); a user of a remote cluster does the same,
or installs the package on the workers. Without it, the task fails with the
missing module's name, and the run goes on.
"""

import operator
import site
import textwrap
import time

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the dask backend needs the [dask] extra")

from benchmark.config import RunConfig
from benchmark.dask_backend import execute_dask
from benchmark.executor import Job
from benchmark.experiment import run_benchmark

distributed = pytest.importorskip("distributed")

SCORES = ["score", "balanced_accuracy", "localizer_accuracy"]

RAISES = """
    from decoders.chance import ChanceDecoder
    from benchmark.contract import DecoderSpec

    class Raises(ChanceDecoder):
        def fit(self, X, y):
            raise RuntimeError("boom on the worker")

    DECODER = DecoderSpec(name="raises", family="baseline", description="Raises in fit.",
                          factory=lambda c: Raises(c.random_state))
"""


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded worker processes, shared by the module's tests."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _scores(out):
    table = pd.read_csv(out / "results.csv")
    return table.set_index(["pipeline", "subject"]).sort_index()[["status", *SCORES]]


@pytest.mark.slow  # ~20 s: a fresh cluster's workers import MNE and scikit-learn once each
def test_dask_scores_equal_local_scores(foreign_root, tmp_path):
    # backend="dask" without a scheduler: the runner starts (and closes) its own 2-worker LocalCluster
    common = dict(
        data=foreign_root, decoders=("chance", "lda-peak"), localizer_folds=2, progress=False, n_jobs=2
    )
    local = run_benchmark(RunConfig(out=tmp_path / "local", **common))
    dask = run_benchmark(RunConfig(out=tmp_path / "dask", backend="dask", **common))
    assert not local.failures and not dask.failures, [r["error"] for r in local.failures + dask.failures]
    assert len(dask.rows) == 2 * 3
    pd.testing.assert_frame_equal(_scores(tmp_path / "dask"), _scores(tmp_path / "local"))


def _decoder_package(root, name):
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "raises.py").write_text(textwrap.dedent(RAISES))
    (pkg / "ok.py").write_text("from decoders.chance import DECODER\n")
    return name


def _run_on(client, package, foreign_root, out):
    config = RunConfig(data=foreign_root, out=out, decoders=("chance", "raises"), subjects=("sub-02",),
                       localizer_folds=0, progress=False, backend="dask",
                       scheduler=client.scheduler.address)  # fmt: skip
    summary = run_benchmark(config, package=package)
    return {r["decoder"]: (r["status"], r["error"]) for r in summary.rows}


def test_raising_decoder_is_an_error_row_and_the_run_continues(client, foreign_root, tmp_path, monkeypatch):
    package = _decoder_package(tmp_path, "dask_fault_decoders")
    monkeypatch.syspath_prepend(str(tmp_path))
    client.run(site.addsitedir, str(tmp_path))  # the workers import the package by name
    status = _run_on(client, package, foreign_root, tmp_path / "out")
    assert status["chance"] == ("ok", "")
    assert status["raises"] == ("error", "RuntimeError: boom on the worker")
    assert client.status == "running"  # a scheduler given by address is left running


def test_decoder_missing_on_the_workers_is_an_error_row(client, foreign_root, tmp_path, monkeypatch):
    package = _decoder_package(tmp_path, "unshipped_decoders")
    monkeypatch.syspath_prepend(str(tmp_path))  # importable here, not on the workers
    status = _run_on(client, package, foreign_root, tmp_path / "out")
    assert status["chance"] == ("ok", "")
    assert status["raises"][0] == "error" and "No module named 'unshipped_decoders'" in status["raises"][1]


def test_execute_dask_records_worker_exceptions_and_timeouts(client):
    # a nested function is pickled by value (cloudpickle), so the workers need not import this module
    fns = {"ok": dict, "raise": operator.truediv, "sleep": time.sleep}

    def dispatch(name, *args):
        return fns[name](*args)

    jobs = [
        Job(f"{name}-key", (name, *args), {"decoder": name, "subject": "sub-00"})
        for name, args in (("ok", ({"status": "ok"},)), ("raise", (1, 0)), ("sleep", (4,)))
    ]
    start = time.perf_counter()
    rows = {
        job.label["decoder"]: row for job, row in execute_dask(dispatch, jobs, client=client, timeout=1.0)
    }
    assert time.perf_counter() - start < 3.5  # not waiting for the 4 s sleep to finish
    assert rows["ok"] == {"status": "ok"}
    assert rows["raise"]["status"] == "error" and "ZeroDivisionError" in rows["raise"]["error"]
    assert rows["sleep"]["status"] == "timeout" and "--timeout" in rows["sleep"]["error"]


def test_backend_is_validated(tmp_path):
    with pytest.raises(ValueError, match="allowed values are 'local' and 'dask', but got 'slurm'"):
        RunConfig(data=tmp_path, out=tmp_path, backend="slurm")
    with pytest.raises(ValueError, match="--backend dask"):
        RunConfig(data=tmp_path, out=tmp_path, scheduler="tcp://127.0.0.1:8786")
