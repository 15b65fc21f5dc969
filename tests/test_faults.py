"""Isolation and resume: failing decoders never stop a run or lose results."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.config import RunConfig
from benchmark.errors import EnvironmentFailure
from benchmark.experiment import run_benchmark

DECODERS = {
    "hang.py": """
        import time
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Hang(ChanceDecoder):
            def fit(self, X, y):
                time.sleep(3600)

        DECODER = DecoderSpec(name="hang", family="baseline", description="Hangs.",
                              factory=lambda c: Hang(c.random_state))
    """,
    "nan.py": """
        import numpy as np
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Nan(ChanceDecoder):
            def predict_proba_imagine(self, X):
                return np.full((len(X), 10), np.nan)

        DECODER = DecoderSpec(name="nan-output", family="baseline", description="Returns NaN.",
                              factory=lambda c: Nan(c.random_state))
    """,
    "shape.py": """
        import numpy as np
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Shape(ChanceDecoder):
            def predict_proba_imagine(self, X):
                return np.full((len(X), 3), 1 / 3)

        DECODER = DecoderSpec(name="shape", family="baseline", description="Wrong shape.",
                              factory=lambda c: Shape(c.random_state))
    """,
    "writer.py": """
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Writer(ChanceDecoder):
            def fit(self, X, y):
                X *= 2
                return super().fit(X, y)

        DECODER = DecoderSpec(name="writer", family="baseline", description="Writes to its input.",
                              factory=lambda c: Writer(c.random_state))
    """,
    "hog.py": """
        import numpy as np
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Hog(ChanceDecoder):
            def fit(self, X, y):
                self.blob_ = np.ones((4096, 2**20 // 8 * 4))  # 16 GiB
                return super().fit(X, y)

        DECODER = DecoderSpec(name="hog", family="baseline", description="Allocates 16 GiB.",
                              factory=lambda c: Hog(c.random_state))
    """,
    "virtual.py": """
        import mmap
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Virtual(ChanceDecoder):
            def fit(self, X, y):
                # 4 GiB of address space that is never written (like reserved arenas, mapped
                # libraries and data files): no memory used, so no reason to fail at a 3000 MB cap
                self.reserved_ = mmap.mmap(-1, 4 * 2**30, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
                return super().fit(X, y)

        DECODER = DecoderSpec(name="virtual", family="baseline", description="Reserves address space.",
                              factory=lambda c: Virtual(c.random_state))
    """,
    "course.py": """
        from decoders.chance import ChanceDecoder
        from benchmark.contract import DecoderSpec

        class Course(ChanceDecoder):
            def imagine_time_course(self, X):
                raise RuntimeError("no time course today")

        DECODER = DecoderSpec(name="course", family="baseline", description="Time course raises.",
                              factory=lambda c: Course(c.random_state))
    """,
    "broken.py": "def oops(:\n",
    "ok.py": "from decoders.chance import DECODER\n",
}


@pytest.fixture
def fault_package(tmp_path, monkeypatch):
    pkg = tmp_path / "fault_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, source in DECODERS.items():
        (pkg / name).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fault_decoders"


def test_every_fault_recorded_and_run_continues(fault_package, foreign_root, tmp_path):
    config = RunConfig(data=foreign_root, out=tmp_path / "out", subjects=("sub-02",), progress=False,
                       decoders=("chance", "nan-output", "shape", "writer", "hog", "course", "virtual"),
                       localizer_folds=0, timeout=300, max_memory_mb=3000, n_jobs=2)  # fmt: skip
    summary = run_benchmark(config, package=fault_package)
    status = {r["decoder"]: (r["status"], r["error"]) for r in summary.rows}
    assert status["chance"] == ("ok", "")
    assert status["nan-output"][0] == "invalid" and "NaN" in status["nan-output"][1]
    assert status["shape"][0] == "invalid" and "(30, 10)" in status["shape"][1]
    assert status["writer"][0] == "error" and "read-only" in status["writer"][1]
    writer = next(r for r in summary.rows if r["decoder"] == "writer")
    assert writer["error_at"].endswith("in fit") and "fault_decoders/writer.py" in writer["error_at"]
    assert "X *= 2" in writer["traceback"]  # the line that raised, kept in the row
    assert status["hog"][0] == "oom" and "over the --max-memory cap of 3000 MB" in status["hog"][1]
    assert status["virtual"] == ("ok", "")  # the cap is on memory used, not on address space
    # an optional output that fails (the time course for plots) leaves the task scored
    course = next(r for r in summary.rows if r["decoder"] == "course")
    assert course["status"] == "ok" and course["evidence_error"] == "RuntimeError: no time course today"
    assert list(summary.broken) and next(iter(summary.broken)).endswith("broken.py")
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv").set_index("decoder")
    assert board.loc["nan-output", "status"] == "invalid 1"
    assert board.loc["hog", "status"] == "oom 1"
    run_info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert any(k.endswith("broken.py") for k in run_info["broken_decoder_files"])


def test_hanging_decoder_killed_at_timeout(fault_package, foreign_root, tmp_path, caplog):
    config = RunConfig(data=foreign_root, out=tmp_path / "out", subjects=("sub-02",), progress=False,
                       decoders=("hang",), localizer_folds=0, timeout=2)  # fmt: skip
    start = time.perf_counter()
    summary = run_benchmark(config, package=fault_package)
    assert "task hang on sub-02 exceeded the 2 s timeout" in caplog.text
    assert [(r["status"], r["error"]) for r in summary.rows] == [("timeout", "killed after 2 s (--timeout)")]
    assert time.perf_counter() - start < 60
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv").set_index("decoder")
    assert board.loc["hang", "status"] == "timeout 1"


def test_rerun_reuses_results_and_force_recomputes(foreign_root, tmp_path):
    config = RunConfig(data=foreign_root, out=tmp_path / "out", decoders=("chance", "lda-peak"),
                       subjects=("sub-02", "sub-40"), progress=False, localizer_folds=2)  # fmt: skip
    first = run_benchmark(config)
    assert not any(r["cached"] for r in first.rows)
    second = run_benchmark(config)
    assert all(r["cached"] for r in second.rows)
    scores = [pd.read_csv(tmp_path / "out" / "results.csv")["score"].fillna(-1).tolist()]
    third = run_benchmark(RunConfig(**{**config.__dict__, "force": True}))
    assert not any(r["cached"] for r in third.rows)
    scores.append(pd.read_csv(tmp_path / "out" / "results.csv")["score"].fillna(-1).tolist())
    assert scores[0] == scores[1]  # deterministic: same command, same scores
    other_seed = run_benchmark(RunConfig(**{**config.__dict__, "seed": 1}))
    assert not any(r["cached"] for r in other_seed.rows)  # the seed is part of the key


def test_read_only_output_folder(foreign_root, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    if os.access(out, os.W_OK):  # root ignores permission bits: use a folder no one can write
        out = Path("/proc/imagine-bench-readonly")
    config = RunConfig(data=foreign_root, out=out, decoders=("chance",), progress=False)
    with pytest.raises(EnvironmentFailure, match=f"Cannot write results to {out}"):
        run_benchmark(config)
    code = main(
        ["run", "--decoder", "chance", "--data", str(foreign_root), "--out", str(out), "--no-progress"]
    )
    assert code == 3  # the machine, not the input


def test_output_path_is_a_file(foreign_root, tmp_path):
    out = tmp_path / "file"
    out.write_text("not a folder")
    config = RunConfig(data=foreign_root, out=out, decoders=("chance",), progress=False)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        run_benchmark(config)
    code = main(
        ["run", "--decoder", "chance", "--data", str(foreign_root), "--out", str(out), "--no-progress"]
    )
    assert code == 2  # a usage error


def test_kill_9_then_resume(fault_package, foreign_root, tmp_path):
    """Kill the whole run mid-way; the rerun reuses finished tasks only."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "benchmark", "run", "--decoder", "chance", "lda-peak", "--data",
           str(foreign_root), "--out", str(out), "--no-progress", "--localizer-folds", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    cache = out / "cache"
    while time.time() < deadline and len(list(cache.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.stem for p in cache.glob("*.json")}
    assert 2 <= len(finished) < 6, "kill came too late to test a resume"
    # the journal was appended as tasks finished: the killed run's rows are in it (a row
    # stored in cache/ an instant before the kill may have missed its journal line)
    journal = {json.loads(line)["key"] for line in (out / "tasks.jsonl").read_text().splitlines()}
    assert journal and journal <= finished and len(journal) >= len(finished) - 2
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    reused = {r["key"] for r in rows if r["cached"]}
    assert reused == finished
