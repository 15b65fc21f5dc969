"""The output folder: a result store that trusts nothing, one writer, reports replaced whole, exit codes."""

import errno
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
from benchmark.errors import EnvironmentFailure, OutputBusyError
from benchmark.experiment import run_benchmark
from benchmark.outdir import OutputLock
from datasets import layout
from tests.processes import alive

ROOT = Path(__file__).resolve().parent.parent


def _config(root, out, **kwargs):
    base = {"decoders": ("chance",), "subjects": ("sub-02",), "localizer_folds": 0, "progress": False}
    return RunConfig(data=root, out=out, **{**base, **kwargs})


# ------------------------------------------------------------------ result store
def test_tampered_result_files_are_named_and_recomputed(foreign_root, tmp_path, caplog):
    out = tmp_path / "out"
    config = _config(foreign_root, out, subjects=("sub-02", "sub-03", "sub-40"))
    first = {r["subject"]: r for r in run_benchmark(config).rows}
    files = {r["subject"]: out / "cache" / f"{r['key']}.json" for r in first.values()}
    good = {s: f.read_bytes() for s, f in files.items()}
    damage = {  # the three: a bare ok, a list, a byte that is not UTF-8
        "sub-02": b'{"status": "ok"}',
        "sub-03": b"[]",
        "sub-40": b'{"status": "ok", "decoder": "chance"\xff}',
    }
    for subject, content in damage.items():
        files[subject].write_bytes(content)
    second = {r["subject"]: r for r in run_benchmark(config).rows}
    for subject in damage:
        assert "ignoring" in caplog.text and str(files[subject]) in caplog.text
        assert not second[subject]["cached"], subject  # recomputed, not trusted
        assert second[subject]["proba"] == first[subject]["proba"]
        assert json.loads(files[subject].read_bytes())["proba"] == first[subject]["proba"]  # file repaired
    assert pd.read_csv(out / "leaderboard.csv")["status"].tolist() == ["ok 3"]
    # files that parse, claim ok and carry the right key, but hold a wrong shape or another task's row
    row = json.loads(good["sub-02"])
    files["sub-02"].write_text(json.dumps({**row, "proba": [[0.5, 0.25, 0.25]] * row["n_imagine"]}))
    files["sub-03"].write_bytes(good["sub-40"])
    caplog.clear()
    third = {r["subject"]: r for r in run_benchmark(config).rows}
    assert [s for s, r in third.items() if not r["cached"]] == ["sub-02", "sub-03"]
    assert f"{files['sub-02']} (proba row 0 is not 10 non-negative numbers summing to 1)" in caplog.text
    assert f"{files['sub-03']} (key is " in caplog.text
    caplog.clear()
    assert all(r["cached"] for r in run_benchmark(config).rows)
    assert "ignoring" not in caplog.text


def test_a_task_file_with_the_old_field_names_is_reused(foreign_root, tmp_path, caplog):
    """A result file written under the rows' old names (``pipeline``, ``score``, ``eligible``) is reused."""
    from benchmark.journal import OLD_ROW_FIELDS

    out = tmp_path / "out"
    config = _config(foreign_root, out)
    (first,) = run_benchmark(config).rows
    assert {"decoder", "imagine_accuracy", "ranked"} <= set(first) and not OLD_ROW_FIELDS.keys() & set(first)
    path = out / "cache" / f"{first['key']}.json"
    stored = json.loads(path.read_text())
    assert {"decoder", "imagine_accuracy", "ranked"} <= set(stored)
    new_to_old = {new: old for old, new in OLD_ROW_FIELDS.items()}
    path.write_text(json.dumps({new_to_old.get(k, k): v for k, v in stored.items()}))
    (out / "tasks.jsonl").write_text(path.read_text() + "\n")  # the journal of an old run, too
    (second,) = run_benchmark(config).rows
    assert second["cached"] and "ignoring" not in caplog.text  # not recomputed because of the names
    assert {**second, "cached": False} == first
    journal = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert journal[0]["decoder"] == "chance" and not OLD_ROW_FIELDS.keys() & set(journal[0])


def test_in_place_edit_of_a_dataset_file_is_not_served_from_the_result_cache(fresh_foreign_root, tmp_path):
    out = tmp_path / "out"
    config = _config(fresh_foreign_root, out)
    assert run_benchmark(config).rows[0]["status"] == "ok"
    fname = layout.localizer_epochs_file(fresh_foreign_root / "train" / "sub-02", "sub-02")
    size = fname.stat().st_size
    with fname.open("r+b") as fh:  # 8 KiB of 0xff (NaN at any alignment) into the data, same size
        fh.seek(size // 2)
        fh.write(b"\xff" * 8192)
    assert fname.stat().st_size == size
    (row,) = run_benchmark(config).rows
    assert not row["cached"]
    assert row["status"] == "error" and "NaN/inf samples" in row["error"]


# --------------------------------------------------------------- atomic reports
def _report_files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "cache" not in p.parts and p.name not in ("tasks.jsonl", ".lock")
    }


@pytest.mark.parametrize("failure", ["disk-full", "writer-bug"])
def test_failed_report_write_leaves_the_previous_set(foreign_root, tmp_path, monkeypatch, capsys, failure):
    from benchmark import html

    out = tmp_path / "out"
    run_benchmark(_config(foreign_root, out))
    before = _report_files(out)
    assert "index.html" in before and "run.json" in before

    def broken_render(*args, **kwargs):
        if failure == "disk-full":
            raise OSError(errno.ENOSPC, "No space left on device")
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(html, "render_index", broken_render)
    args = ["run", "--decoder", "chance", "--subjects", "sub-02", "--data", str(foreign_root),
            "--out", str(out), "--no-progress", "--localizer-folds", "0", "--seed", "3",
            "--no-data-cache"]  # fmt: skip
    if failure == "disk-full":
        assert main(args) == 3
        err = capsys.readouterr().err
        assert f"writing the reports: {out}: No space left on device" in err
    else:
        with pytest.raises(TypeError):
            run_benchmark(_config(foreign_root, out, seed=3))
    assert _report_files(out) == before  # the whole previous set, byte for byte
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".reports") or p.suffix == ".tmp"]
    assert leftovers == []
    monkeypatch.undo()
    run_benchmark(_config(foreign_root, out, seed=3))
    assert _report_files(out)["results.csv"] != before["results.csv"]  # a later run replaces the set


def test_reports_keep_other_runtime_sections(foreign_root, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "runtime.md").write_text(
        "# Runtime\n\n<!-- section:bench -->\nbench numbers\n<!-- /section:bench -->\n"
    )
    run_benchmark(_config(foreign_root, out))
    text = (out / "runtime.md").read_text()
    assert "bench numbers" in text and "<!-- section:run -->" in text


# ------------------------------------------------------------------- one writer
def test_second_run_into_a_busy_folder_stops_at_once(foreign_root, tmp_path):
    out = tmp_path / "out"
    with OutputLock(out, command="python -m benchmark run --decoder lda-peak"):
        with pytest.raises(OutputBusyError, match=f"pid {os.getpid()}.*--decoder lda-peak"):
            run_benchmark(_config(foreign_root, out))
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "benchmark", "run", "--decoder", "chance", "--data", str(foreign_root),
             "--out", str(out), "--no-progress"],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "is being written by another run" in proc.stderr and "Traceback" not in proc.stderr
        assert time.perf_counter() - start < 60
        assert not (out / "cache").exists()  # it wrote nothing
    # released: the next run goes ahead
    assert run_benchmark(_config(foreign_root, out)).rows[0]["status"] == "ok"


def test_stale_lock_of_a_dead_process_is_taken_over(foreign_root, tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(f"pid {dead.pid}\nstarted 2026-01-01T00:00:00+00:00\ncommand killed run\n")
    caplog.set_level("INFO", logger="benchmark.outdir")
    assert run_benchmark(_config(foreign_root, out)).rows[0]["status"] == "ok"
    assert f"taking over {out / '.lock'} from PID {dead.pid} (no longer running)" in caplog.text


def test_two_concurrent_runs_lose_no_rows(foreign_root, tmp_path):
    """The issue's scenario: A (lda-peak) and B (chance) at once into one folder."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "benchmark", "run", "--data", str(foreign_root), "--out", str(out),
           "--no-progress", "--localizer-folds", "0", "--subjects", "sub-02", "--decoder"]  # fmt: skip
    quiet = {"cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
    procs = {
        "a": subprocess.Popen([*cmd, "lda-peak"], **quiet),
        "b": subprocess.Popen([*cmd, "chance"], **quiet),
    }
    errs = {name: p.communicate(timeout=300)[1] for name, p in procs.items()}
    results = {name: (p.returncode, errs[name]) for name, p in procs.items()}
    codes = sorted(code for code, _ in results.values())
    # either both ran one after the other, or one was refused (exit 2, saying why); never a silent loss
    if codes == [0, 2]:
        refused = next(err for code, err in results.values() if code == 2)
        assert "is being written by another run" in refused
        kept = next(name for name, (code, _) in results.items() if code == 0)
        expected = {"a": "lda-peak", "b": "chance"}[kept]
    else:
        assert codes == [0, 0], results
        expected = None
    board = pd.read_csv(out / "leaderboard.csv")
    if expected:
        assert board["decoder"].tolist() == [expected]


# ----------------------------------------------------------- exit codes, broken files
def test_broken_decoder_file_under_all_is_a_failed_row(tmp_path, foreign_root, monkeypatch):
    pkg = tmp_path / "two_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ok.py").write_text("from decoders.chance import DECODER\n")
    (pkg / "broken.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = RunConfig(
        data=foreign_root,
        out=tmp_path / "out",
        subjects=("sub-02", "sub-40"),
        localizer_folds=0,
        progress=False,
    )  # fmt: skip  (decoders=None: --all)
    summary = run_benchmark(config, package="two_decoders")
    failed = [(r["decoder"], r["subject"]) for r in summary.failures]
    assert failed == [("broken.py", "sub-02"), ("broken.py", "sub-40")]
    assert "broken.py could not be registered" in summary.failures[0]["error"]
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv").set_index("decoder")
    assert board.loc["broken.py", "status"] == "error 2" and board.loc["chance", "status"] == "ok 2"
    # results.csv is MOABB-ready (ranked decoders, finite scores only); every task is in results_all.csv
    results = pd.read_csv(tmp_path / "out" / "results_all.csv")
    broken = results[results["pipeline"] == "broken.py"]
    assert sorted(broken["subject"]) == ["sub-02", "sub-40"]
    assert broken["error"].str.contains("cannot import|invalid").all()
    assert "broken.py" not in set(pd.read_csv(tmp_path / "out" / "results.csv")["pipeline"])
    journal = [json.loads(line) for line in (tmp_path / "out" / "tasks.jsonl").read_text().splitlines()]
    assert sum(r["decoder"] == "broken.py" for r in journal) == 2  # `benchmark report` rebuilds them
    # named explicitly, the other decoders do not fail because of a file nobody asked for
    named = run_benchmark(RunConfig(**{**config.__dict__, "decoders": ("chance",)}), package="two_decoders")
    assert named.failures == []


def test_exit_codes_of_bad_input(foreign_root, tmp_path, capsys):
    base = ["run", "--data", str(foreign_root), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([*base, "--decoder", "no-such-decoder"]) == 2
    assert (
        main(["run", "--decoder", "chance", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path)]) == 2
    )
    (tmp_path / "x.csv").write_text("a,b\n")
    capsys.readouterr()
    assert (
        main(["run", "--decoder", "chance", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path)]) == 2
    )
    assert "x.csv is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 "):
        assert f"\n  {code}" in text
    assert "environment failure" in text and "could not be imported" in text


def test_environment_failure_names_the_path(tmp_path):
    from benchmark.store import ResultStore

    store = ResultStore(tmp_path / "cache")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import benchmark.store as store_module

    original = store_module.json.dump
    store_module.json.dump = full
    try:
        with pytest.raises(EnvironmentFailure, match=f"{tmp_path / 'cache' / 'k.json'}: No space left"):
            store.save("k", {"a": 1})
    finally:
        store_module.json.dump = original
    assert list((tmp_path / "cache").iterdir()) == []  # no temporary file left


# --------------------------------------------------------------- orphans, Ctrl-C
HANG = """
    import time
    from decoders.chance import ChanceDecoder
    from benchmark.contract import DecoderSpec

    class Hang(ChanceDecoder):
        def fit(self, X, y):
            time.sleep(3600)

    DECODER = DecoderSpec(name="hang", family="baseline", description="Hangs.",
                          factory=lambda c: Hang(c.random_state))
"""
RUNNER = """
    import logging, sys
    from pathlib import Path
    from benchmark.cli import main
    import benchmark.experiment as experiment
    import benchmark.registry as registry

    logging.basicConfig(level=logging.WARNING)
    # the CLI checks the decoder names (registry.discover) before it runs them (run_benchmark):
    # both look in hang_decoders
    original_discover = registry.discover
    registry.discover = lambda package="hang_decoders", **kwargs: original_discover(package, **kwargs)
    original = experiment.run_benchmark
    experiment.run_benchmark = lambda config, **kwargs: original(config, package="hang_decoders", **kwargs)
    sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def hang_script(tmp_path):
    pkg = tmp_path / "hang_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "hang.py").write_text(textwrap.dedent(HANG))
    (pkg / "ok.py").write_text("from decoders.chance import DECODER\n")
    script = tmp_path / "run_hang.py"
    script.write_text(textwrap.dedent(RUNNER))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return script, env


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _descendants(pid: int) -> list[int]:
    """Children and grandchildren (the run's zygote and the task processes forked from it)."""
    children = _children(pid)
    return children + [g for c in children for g in _children(c)]


def _wait_gone(pids: list[int], safety: float = 300.0) -> None:
    """Wait until none of ``pids`` runs (an event; ``safety`` only ends a regression's wait)."""
    deadline = time.time() + safety
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)


def _start_hang(script, env, foreign_root, out):
    cmd = [sys.executable, str(script), "run", "--decoder", "chance", "hang", "--data", str(foreign_root),
           "--out", str(out), "--subjects", "sub-02", "--no-progress", "--localizer-folds", "0",
           "--n-jobs", "2"]  # fmt: skip
    # SIGINT as a terminal's foreground job has it: a shell starts background jobs (`cmd &`, as CI
    # scripts and nohup runs do) with SIGINT ignored, and the run would then never see the Ctrl-C
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    # going = chance's result stored and the hang task's process started; on a loaded machine
    # that can take long, so wait on the condition (and stop at once if the run has ended)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        workers = _descendants(proc.pid)
        if list((out / "cache").glob("*.json")) and len(workers) >= 2:  # the zygote and the hang task
            return proc, workers
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=60)
    raise AssertionError(f"the run did not get going (exit code {proc.returncode}):\n{err}")


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the run's process group if it is still there, and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_run_takes_its_task_processes_with_it(hang_script, foreign_root, tmp_path):
    script, env = hang_script
    out = tmp_path / "out"
    proc, workers = _start_hang(script, env, foreign_root, out)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, not its group
        proc.communicate(timeout=300)
        _wait_gone(workers)  # the zygote sees its socket close, the task process its parent die
        assert not any(alive(w) for w in workers), "a task process outlived the run"
    finally:
        _kill_group(proc)
    journal = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert [(r["decoder"], r["status"]) for r in journal] == [("chance", "ok")]
    # the killed run's folder can be reported: what it finished, marked as interrupted
    assert main(["report", str(out)]) == 0
    assert pd.read_csv(out / "leaderboard.csv")["decoder"].tolist() == ["chance"]
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["interrupted"] is True and run_info["decoders"] == ["chance", "hang"]
    # the lock died with its holder: a rerun goes ahead (and reuses chance)
    rerun = subprocess.run([sys.executable, "-m", "benchmark", "run", "--decoder", "chance", "--data",
                            str(foreign_root), "--out", str(out), "--subjects", "sub-02", "--no-progress",
                            "--localizer-folds", "0"],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_ends_cleanly_and_keeps_finished_tasks(hang_script, foreign_root, tmp_path):
    script, env = hang_script
    out = tmp_path / "out"
    proc, workers = _start_hang(script, env, foreign_root, out)
    try:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        # wait for the run to end (an event); the limit only ends the wait of a run that hangs
        _, err = proc.communicate(timeout=600)
    finally:
        _kill_group(proc)  # never leave the run behind for the next test
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("interrupted: finished tasks are kept in --out's cache/")
    _wait_gone(workers)  # the run waited for its zygote; a task process dies with it
    assert not any(alive(w) for w in workers)
    journal = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    assert [(r["decoder"], r["status"]) for r in journal] == [("chance", "ok")]
    assert (out / ".lock").read_text() == ""  # released
