"""Contributed code cannot reach the labels, hang the run or outlive its task.

The hostile decoders live here, in a package written to ``tmp_path``, never
in ``decoders/``. Every wait on a process is a wait on an event (a file
appearing, a process exiting); the ``timeout=`` of a ``subprocess.run`` is a
safety net against a regression that hangs, never a guess the test needs.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from benchmark.config import RunConfig
from benchmark.experiment import run_benchmark
from tests.processes import alive

ROOT = Path(__file__).resolve().parent.parent

PEEK = """
    import gc
    import inspect

    import numpy as np

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder


    def find_labels(n):
        '''Look for the imagine labels wherever the harness might have left them.'''
        candidates = []
        for frame in inspect.stack():  # the frames of whoever called us
            candidates += list(frame.frame.f_locals.values())
        candidates += gc.get_objects()
        for obj in candidates:
            if isinstance(obj, type):  # a class (ChallengeDataset itself) holds no labels
                continue
            try:
                reader = getattr(obj, "imagine_labels", None)
                is_dataset = callable(reader) and hasattr(obj, "subjects")  # a ChallengeDataset
            except Exception:  # some objects raise on any attribute (ctypes libraries)
                continue
            if is_dataset:
                for subject in obj.subjects:
                    try:
                        labels = reader(subject)
                    except Exception:
                        continue
                    if len(labels) == n:
                        return np.asarray(labels)
            if type(obj) is dict and isinstance(obj.get("y_true"), list) and len(obj["y_true"]) == n:
                return np.asarray(obj["y_true"])  # a scored result row
        return None


    class Peek(ChanceDecoder):
        def predict_proba_imagine(self, X):
            labels = find_labels(len(X))
            if labels is None:
                raise LookupError("no imagine labels in reach")
            names = list(self.classes_)
            proba = np.full((len(X), len(names)), 1e-3)
            for i, label in enumerate(labels):
                proba[i, names.index(label) if isinstance(label, str) else int(label)] = 1.0
            return proba / proba.sum(axis=1, keepdims=True)


    DECODER = DecoderSpec(name="peek", family="baseline", description="Looks for the labels.",
                          factory=lambda c: Peek(c.random_state))
"""

THREADS = """
    import threading

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder

    class Threads(ChanceDecoder):
        def fit(self, X, y):
            threading.Thread(target=threading.Event().wait, daemon=False).start()  # never ends
            return super().fit(X, y)

    DECODER = DecoderSpec(name="threads", family="baseline", description="Leaves a non-daemon thread.",
                          factory=lambda c: Threads(c.random_state))
"""

ORPHAN = """
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder

    def start_child(name):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        marker = Path(os.environ["ORPHAN_DIR"]) / name
        marker.with_suffix(".tmp").write_text(str(child.pid))
        marker.with_suffix(".tmp").rename(marker)

    class Orphan(ChanceDecoder):
        def fit(self, X, y):
            start_child("hangs")
            time.sleep(3600)  # past any --timeout

    class Leaver(ChanceDecoder):
        def fit(self, X, y):
            start_child("returns")  # and returns normally, its child still running
            return super().fit(X, y)

    DECODER = DecoderSpec(name="orphan", family="baseline", description="Starts a process, then hangs.",
                          factory=lambda c: Orphan(c.random_state))
"""

LEAVER = "from hostile_decoders.orphan import Leaver\n" + textwrap.dedent("""
    from benchmark.contract import DecoderSpec
    DECODER = DecoderSpec(name="leaver", family="baseline", description="Starts a process and returns.",
                          factory=lambda c: Leaver(c.random_state))
""")

HOG_AND_SPIN = """
    import time

    import numpy as np

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder

    class HogAndSpin(ChanceDecoder):
        '''Takes memory until refused, then spins (as OpenBLAS does when it cannot map its buffers).'''

        def fit(self, X, y):
            self.blocks_ = []
            try:
                while True:
                    self.blocks_.append(np.ones(2**20))  # 8 MB, written
            except MemoryError:
                pass
            while True:
                time.sleep(0.01)

    DECODER = DecoderSpec(name="hog-spin", family="baseline", description="Fills its cap, then spins.",
                          factory=lambda c: HogAndSpin(c.random_state))
"""


THREAD_COUNTER = """
    from threadpoolctl import threadpool_info

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder


    class CountsThreads(ChanceDecoder):
        def fit(self, X, y):
            counts = sorted({pool["num_threads"] for pool in threadpool_info()})
            raise RuntimeError(f"thread pools with {counts} threads")


    DECODER = DecoderSpec(name="count-threads", family="baseline", description="Counts BLAS threads.",
                          factory=lambda c: CountsThreads(c.random_state))
"""


@pytest.fixture
def hostile_package(tmp_path, monkeypatch):
    pkg = tmp_path / "hostile_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, source in {"peek.py": PEEK, "threads.py": THREADS, "orphan.py": ORPHAN, "hog.py": HOG_AND_SPIN,
                         "leaver.py": LEAVER, "count_threads.py": THREAD_COUNTER}.items():  # fmt: skip
        (pkg / name).write_text(textwrap.dedent(source))
    (pkg / "ok.py").write_text("from decoders.chance import DECODER\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "hostile_decoders"


def _run(root, out, decoders, package, **kwargs):
    config = RunConfig(data=root, out=out, decoders=decoders, localizer_folds=0, progress=False, **kwargs)
    return {(r["decoder"], r["subject"]): r for r in run_benchmark(config, package=package).rows}


def test_a_decoder_cannot_reach_the_imagine_labels(hostile_package, foreign_root, tmp_path):
    """Walking the stack and the heap from inside predict_proba_imagine finds no dataset, no label."""
    rows = _run(foreign_root, tmp_path / "out", ("peek", "chance"), hostile_package)
    for subject in ("sub-02", "sub-03"):  # the train subjects
        row = rows[("peek", subject)]
        assert row["status"] == "error", f"the decoder found labels and scored {row.get('imagine_accuracy')}"
        assert "no imagine labels in reach" in row["error"]
    assert rows[("chance", "sub-02")]["status"] == "ok"


def test_a_decoder_cannot_reach_the_labels_with_the_dask_backend(hostile_package, foreign_root, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    pytest.importorskip("distributed")
    # the dask workers are fresh processes: they find the package through PYTHONPATH
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), str(ROOT)]))
    rows = _run(foreign_root, tmp_path / "out", ("peek",), hostile_package, subjects=("sub-02",),
                backend="dask", n_jobs=1)  # fmt: skip
    row = rows[("peek", "sub-02")]
    assert row["status"] == "error" and "no imagine labels in reach" in row["error"], row


def test_imagine_epochs_arrive_shuffled_without_trial_ids(foreign_root, tmp_path):
    """The task process gets the imagine epochs in a random order; the harness maps the answers back."""
    from benchmark.registry import discover
    from benchmark.tasks import prepare_task
    from datasets.adapter import ChallengeDataset

    dataset = ChallengeDataset(foreign_root)
    spec = discover().get("chance")
    config = RunConfig(data=foreign_root, out=tmp_path, localizer_folds=0)
    data = dataset.load("sub-02")
    orders = [prepare_task(dataset, spec, "sub-02", config).order for _ in range(3)]
    assert any(not np.array_equal(o, orders[0]) for o in orders[1:]), "the same order every task"
    prepared = prepare_task(dataset, spec, "sub-02", config)
    np.testing.assert_array_equal(prepared.arrays["X_imagine"], np.asarray(data.imagine.X)[prepared.order])
    sent = {**prepared.header, **prepared.arrays}
    assert not any("trial" in key or "label" in key for key in sent), sorted(sent)


def test_chance_is_the_same_whatever_the_order_and_differs_between_subjects(foreign_root, tmp_path):
    from benchmark.registry import discover
    from benchmark.runner import _run_task_body
    from datasets.adapter import ChallengeDataset

    dataset = ChallengeDataset(foreign_root)
    spec = discover().get("chance")
    config = RunConfig(data=foreign_root, out=tmp_path, localizer_folds=0)
    n = len(dataset.load("sub-02").imagine.X)
    rng = np.random.default_rng(0)
    first = _run_task_body(dataset, spec, "sub-02", config, order=np.arange(n))
    again = _run_task_body(dataset, spec, "sub-02", config, order=rng.permutation(n))
    np.testing.assert_array_equal(first["proba"], again["proba"])
    other = _run_task_body(dataset, spec, "sub-03", config, order=np.arange(n))
    k = min(len(first["proba"]), len(other["proba"]))
    guesses = np.argmax(first["proba"], axis=1)[:k], np.argmax(other["proba"], axis=1)[:k]
    assert not np.array_equal(*guesses), "chance guessed the same for two subjects"


# --------------------------------------------------------------- hangs and orphans
RUNNER = """
    import sys
    import benchmark.experiment as experiment
    import benchmark.registry as registry
    from benchmark.cli import main

    original_discover = registry.discover
    registry.discover = lambda package="hostile_decoders", **kwargs: original_discover(package, **kwargs)
    original = experiment.run_benchmark
    experiment.run_benchmark = lambda config, **kwargs: original(config, package="hostile_decoders", **kwargs)
    sys.exit(main(sys.argv[1:]))
"""


def _cli(tmp_path, foreign_root, out, *args, env=None):
    script = tmp_path / "run_hostile.py"
    script.write_text(textwrap.dedent(RUNNER))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), **(env or {})}
    cmd = [sys.executable, str(script), "run", "--data", str(foreign_root), "--out", str(out), "--subjects",
           "sub-02", "--no-progress", "--localizer-folds", "0", *args]  # fmt: skip
    # output to a file, not a pipe: a process the run leaves behind would hold a pipe open.
    # timeout: only a safety net should the run hang (the failure this file guards against)
    log = tmp_path / "run.log"
    with log.open("w") as fh:
        done = subprocess.run(cmd, cwd=tmp_path, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=600)
    done.stderr = log.read_text()
    return done


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_decoder_leaving_non_daemon_threads_does_not_hang_the_run(hostile_package, foreign_root, tmp_path):
    out = tmp_path / "out"
    done = _cli(tmp_path, foreign_root, out, "--decoder", "threads", "chance", "--timeout", "300")
    assert done.returncode == 0, done.stderr
    journal = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert sorted((r["decoder"], r["status"]) for r in journal) == [("chance", "ok"), ("threads", "ok")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_processes_a_decoder_starts_die_with_its_task(hostile_package, foreign_root, tmp_path):
    out, markers = tmp_path / "out", tmp_path / "markers"
    markers.mkdir()
    # --timeout 20: the hanging decoder starts its child well within it, whatever the load
    done = _cli(tmp_path, foreign_root, out, "--decoder", "orphan", "leaver", "--timeout", "20",
                env={"ORPHAN_DIR": str(markers)})  # fmt: skip
    assert done.returncode == 1, done.stderr  # the hanging one timed out
    journal = {
        r["decoder"]: r["status"] for r in map(json.loads, (out / "tasks.jsonl").read_text().splitlines())
    }
    assert journal == {"orphan": "timeout", "leaver": "ok"}
    for name in ("hangs", "returns"):
        pid = int((markers / name).read_text())
        # the run killed the task's process group before it recorded the row: already gone
        assert not alive(pid), f"the process the {name!r} decoder started outlived its task"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA and /proc")
def test_a_decoder_that_fills_its_memory_cap_and_spins_is_oom(hostile_package, foreign_root, tmp_path):
    rows = _run(foreign_root, tmp_path / "out", ("hog-spin",), hostile_package, subjects=("sub-02",),
                max_memory_mb=600, timeout=30)  # fmt: skip
    row = rows[("hog-spin", "sub-02")]
    assert row["status"] == "oom", row
    assert "--max-memory" in row["error"]


WARNS = """
    import warnings

    from benchmark.contract import DecoderSpec
    from decoders.chance import ChanceDecoder

    class Warns(ChanceDecoder):
        def fit(self, X, y):
            warnings.warn("careful", UserWarning)
            return super().fit(X, y)

    DECODER = DecoderSpec(name="warns", family="baseline", description="Warns in fit.",
                          factory=lambda c: Warns(c.random_state))
"""


def test_the_task_process_applies_the_harness_warning_filters(tmp_path, foreign_root, monkeypatch):
    """pytest's filterwarnings=error holds inside task processes too (a forked task inherited it)."""
    import warnings

    pkg = tmp_path / "warning_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "warns.py").write_text(textwrap.dedent(WARNS))
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = _run(foreign_root, tmp_path / "out", ("warns",), "warning_decoders", subjects=("sub-02",))
    row = rows[("warns", "sub-02")]
    assert row["status"] == "error" and "UserWarning: careful" in row["error"], row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = _run(foreign_root, tmp_path / "out2", ("warns",), "warning_decoders", subjects=("sub-02",))
    assert rows[("warns", "sub-02")]["status"] == "ok"


def test_task_processes_keep_their_bytecode_out_of_the_source_tree(tmp_path):
    """Under PYTHONDONTWRITEBYTECODE, a module compiled after keep_bytecode leaves its .pyc in the folder."""
    sources, folder = tmp_path / "src", tmp_path / "pycache"
    sources.mkdir()
    (sources / "freshly_compiled.py").write_text("VALUE = 3\n")
    code = textwrap.dedent(f"""
        import sys
        from benchmark.sandbox import keep_bytecode
        assert sys.dont_write_bytecode
        assert keep_bytecode({str(folder)!r})
        sys.path.insert(0, {str(sources)!r})
        import freshly_compiled
        assert freshly_compiled.VALUE == 3
        assert not keep_bytecode({str(folder)!r})  # already writing: nothing to change
    """)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert [p.name for p in folder.rglob("*.pyc")] == [f"freshly_compiled.{sys.implementation.cache_tag}.pyc"]
    assert not (sources / "__pycache__").exists()


def test_the_zygote_removes_its_bytecode_folder(monkeypatch):
    from benchmark.task_processes import Zygote

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    zygote = Zygote()
    try:
        zygote.ensure_running()
        folder = Path(zygote._pycache)
        assert folder.is_dir()
    finally:
        zygote.close()
    assert not folder.exists()


def test_decoders_run_with_one_thread_in_every_thread_pool(hostile_package, foreign_root, tmp_path):
    """The zygote's thread-pool controller limits BLAS and OpenMP to one thread in each task."""
    rows = _run(foreign_root, tmp_path / "out", ("count-threads",), hostile_package, subjects=("sub-02",))
    assert "thread pools with [1] threads" in rows[("count-threads", "sub-02")]["error"]


def test_arrays_cross_the_wire_intact_and_read_only():
    """A task's arrays (any dtype, empty or non-contiguous, larger than a socket buffer) arrive as sent."""
    import threading
    from multiprocessing import Pipe

    from benchmark.wire import _read_into, receive_task, send_task

    rng = np.random.default_rng(0)
    sent = {
        "X": rng.standard_normal((40, 306, 121)),  # 12 MB: many reads
        "strided": rng.standard_normal((6, 8)).astype(np.float32)[:, ::3],
        "empty": np.empty((0, 3)),
    }
    ours, theirs = Pipe()
    writer = threading.Thread(target=send_task, args=(ours, {"y": ["a", "b"]}, sent))
    writer.start()
    header, got = receive_task(theirs)
    writer.join()
    assert header == {"y": ["a", "b"]}
    for name, value in sent.items():
        assert got[name].dtype == value.dtype and np.array_equal(got[name], value), name
        assert not got[name].flags.writeable
    os.write(ours.fileno(), b"\0" * 100)  # the sender dies 100 bytes into an 8000-byte array
    ours.close()
    with pytest.raises(EOFError, match="middle of an array"):
        _read_into(theirs.fileno(), memoryview(np.zeros(1000).view(np.uint8)))
