"""Bad input is refused before any task runs; the machine's failures are exit 3; signals say one line."""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.config import RunConfig
from benchmark.experiment import run_benchmark
from datasets import layout
from datasets.adapter import ChallengeDataset

ROOT = Path(__file__).resolve().parent.parent


def _run_args(root, out, *extra):
    return ["run", "--decoder", "chance", "--data", str(root), "--out", str(out), "--no-progress",
            "--localizer-folds", "0", *extra]  # fmt: skip


@pytest.mark.parametrize("flags", [["--seed", "-1"], ["--max-memory", "0"], ["--max-memory", "-10"]])
def test_bad_numbers_are_refused_before_any_task(foreign_root, tmp_path, capsys, flags):
    out = tmp_path / "out"
    assert main(_run_args(foreign_root, out, *flags)) == 2
    assert not (out / "cache").exists(), "a task ran"
    assert ("seed" if flags[0] == "--seed" else "max_memory_mb") in capsys.readouterr().err


def test_a_file_with_zero_epochs_is_named(fresh_foreign_root):
    import mne

    subject_dir = next((fresh_foreign_root / "train").glob("sub-*"))
    fname = layout.imagine_epochs_file(subject_dir, subject_dir.name)
    epochs = mne.read_epochs(fname, preload=True, verbose="error")
    epochs.drop(range(len(epochs)), verbose="error")
    epochs.save(fname, overwrite=True, verbose="error")
    dataset = ChallengeDataset(fresh_foreign_root)
    with pytest.raises(Exception, match=f"{fname}.*no epochs"):
        dataset.load(subject_dir.name)


def test_an_unwritable_result_path_is_exit_3_and_the_other_tasks_run(foreign_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_run_args(foreign_root, out, "--subjects", "sub-02", "sub-03")) == 0
    rows = [json.loads(line) for line in (out / "tasks.jsonl").read_text().splitlines()]
    blocked = out / "cache" / f"{rows[0]['key']}.json"
    blocked.unlink()
    blocked.mkdir()  # a folder where the result file should go
    (out / "cache" / f"{rows[1]['key']}.json").unlink()
    capsys.readouterr()
    assert main(_run_args(foreign_root, out, "--subjects", "sub-02", "sub-03")) == 3
    assert str(blocked) in capsys.readouterr().err
    assert (out / "cache" / f"{rows[1]['key']}.json").is_file(), "the other task did not run"


def test_one_recording_under_two_subject_ids_warns(fresh_foreign_root, tmp_path, caplog):
    train = fresh_foreign_root / "train"
    original = next(train.glob("sub-*"))
    copy = train / "sub-5"
    shutil.copytree(original, copy)
    for path in copy.iterdir():
        path.rename(copy / path.name.replace(original.name, "sub-5"))
    config = RunConfig(data=fresh_foreign_root, out=tmp_path / "out", decoders=("chance",), localizer_folds=0,
                       progress=False)  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="datasets.adapter"):
        run_benchmark(config)
    assert f"{original.name} and sub-5 hold the same recording" in caplog.text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals")
def test_sigterm_says_one_line_like_ctrl_c(foreign_root, tmp_path):
    """SIGTERM while a task runs: exit 143 and one line, no traceback."""
    pkg = tmp_path / "slow_decoders"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "slow.py").write_text(
        "import os, time\nfrom pathlib import Path\nfrom decoders.chance import ChanceDecoder\n"
        "from benchmark.contract import DecoderSpec\n"
        "class Slow(ChanceDecoder):\n"
        "    def fit(self, X, y):\n"
        "        Path(os.environ['STARTED']).write_text('')\n"
        "        time.sleep(3600)\n"
        "DECODER = DecoderSpec(name='slow', family='baseline', description='Slow.',\n"
        "                      factory=lambda c: Slow(c.random_state))\n"
    )
    script = tmp_path / "run_slow.py"
    script.write_text(
        "import sys\nimport benchmark.experiment as e\nimport benchmark.registry as r\n"
        "from benchmark.cli import main\n"
        "d = r.discover\nr.discover = lambda package='slow_decoders', **k: d(package, **k)\n"
        "o = e.run_benchmark\ne.run_benchmark = lambda c, **k: o(c, package='slow_decoders', **k)\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    started = tmp_path / "started"
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    env = {**os.environ, "PYTHONPATH": path, "STARTED": str(started)}
    cmd = [sys.executable, str(script), "run", "--decoder", "slow", "--data", str(foreign_root),
           "--out", str(tmp_path / "out"), "--subjects", "sub-02", "--no-progress",
           "--localizer-folds", "0"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        while not started.exists() and proc.poll() is None:  # the event: the task is running
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=600)  # safety net only
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("terminated: finished tasks are kept")
