"""Writing a simulated dataset in the official challenge layout, with its ground truth.

Part of :mod:`datasets.simulate`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
import zipfile
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from .. import layout
from ..parallel import map_forked
from . import sensors
from .blocks import simulate_subject
from .config import (
    IMAGINE_WINDOW,
    LOCALIZER_WINDOW,
    METADATA_FILE,
    PATTERNS_DIR,
    SIMULATOR_VERSION,
    SOLUTION_FILE,
    SimulationConfig,
    default_truth_dir,
)
from .model import Block, SimulatedSubject

logger = logging.getLogger(__name__)

#: Fixed timestamp of the members of the ground-truth ``.npz`` files (byte-identical output).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _write_epochs(
    path: Path,
    info: mne.Info,
    block: Block,
    event_id: dict[str, int],
    codes: NDArray[np.int64],
    baseline: bool,
) -> None:
    events = np.column_stack([block.samples, np.zeros_like(block.samples), codes]).astype(int)
    epochs = mne.EpochsArray(
        block.data,
        info,
        events=events,
        tmin=block.tmin,
        event_id=event_id,
        baseline=(None, 0) if baseline else None,
        verbose="error",
    )
    epochs.save(path, fmt="single", overwrite=False, verbose="error")
    sensors.zero_fif_machine_ids(path)


def _labels_frame(subject: str, labels: NDArray[np.int64], trial_type: str) -> pd.DataFrame:
    names = [layout.CLASS_NAMES[i] for i in labels]
    return pd.DataFrame(
        {
            "subject": subject,
            "trial_idx": np.arange(1, len(labels) + 1),
            "label": names,
            "trigger": [layout.EVENT_ID[name] for name in names],
            "trial_type": trial_type,
        },
        columns=list(layout.LABEL_COLUMNS),
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _save_npz(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    """Write an ``.npz`` with fixed zip timestamps (byte-identical reruns)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            archive.writestr(entry, buffer.getvalue())


def _check_empty_or_absent(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(
            f"The {what} {path} exists and is not empty; choose another folder or remove it first."
        )


def _simulate_and_write(job: tuple) -> tuple[list[dict], pd.DataFrame | None, dict]:
    """Simulate one subject and write its files; return its solution rows, imagine labels and metadata."""
    split, subject, config, root, truth_dir = job
    start = time.perf_counter()
    # One BLAS thread: the matrix products are small enough, threads
    # oversubscribe a loaded machine (5-10x slower), and the results
    # then do not depend on the number of cores.
    with threadpool_limits(limits=1, user_api="blas"):
        sim = simulate_subject(subject, config)
    rows = _write_subject(sim, split, root, config)
    labels = _labels_frame(subject, sim.imagine.labels, "imagine") if split == "train" else None
    _save_npz(truth_dir / PATTERNS_DIR / f"{subject}.npz", sim.truth)
    logger.info(
        "Simulated %s (%s): %d localizer + %d imagine epochs in %.1f s",
        subject, split, len(sim.localizer.labels), len(sim.imagine.labels), time.perf_counter() - start,
    )  # fmt: skip
    return rows, labels, {"split": split, **sim.metadata}


def _write_subject(sim: SimulatedSubject, split: str, root: Path, config: SimulationConfig) -> list[dict]:
    """Write one subject's files; return the test solution rows (if any)."""
    subject = sim.subject
    subject_dir = root / split / subject
    subject_dir.mkdir(parents=True)
    event_codes = np.array([layout.EVENT_ID[layout.CLASS_NAMES[i]] for i in sim.localizer.labels])
    _write_epochs(
        layout.localizer_epochs_file(subject_dir, subject),
        sim.info,
        sim.localizer,
        dict(layout.EVENT_ID),
        event_codes,
        baseline=True,
    )
    _write_csv(
        _labels_frame(subject, sim.localizer.labels, "localizer"),
        layout.localizer_labels_file(subject_dir, subject),
    )
    n_img = len(sim.imagine.labels)
    if split == "train":
        codes = np.array([layout.EVENT_ID[layout.CLASS_NAMES[i]] for i in sim.imagine.labels])
        event_id = dict(layout.EVENT_ID)
    else:
        codes = np.arange(1, n_img + 1)
        event_id = {f"{layout.UNKNOWN_PREFIX}{i}": i for i in range(1, n_img + 1)}
    _write_epochs(
        layout.imagine_epochs_file(subject_dir, subject),
        sim.info,
        sim.imagine,
        event_id,
        codes,
        baseline=config.imagine_baseline,
    )
    if split == "train":
        _write_csv(
            _labels_frame(subject, sim.imagine.labels, "imagine"),
            layout.imagine_labels_file(subject_dir, subject),
        )
        return []
    return [
        {
            "ID": layout.submission_id(subject, i + 1),
            "label": layout.CLASS_NAMES[label],
            "Usage": "Public",
        }
        for i, label in enumerate(sim.imagine.labels)
    ]


def simulate_dataset(
    root: Path, config: SimulationConfig, truth_dir: Path | None = None, *, n_jobs: int = 1
) -> Path:
    """Write a simulated dataset in the official challenge layout.

    Parameters
    ----------
    root : Path
        Dataset root; gets ``train/`` and ``test/``. Must not exist or be an
        empty folder.
    config : SimulationConfig
        All parameters, including the seed.
    truth_dir : Path | None
        Folder of the ground truth (``solution.csv``, ``simulation.json``,
        ``patterns/sub-XX.npz``); must be outside ``root`` and not exist or be
        empty. Default: :func:`default_truth_dir` of ``root``.
    n_jobs : int
        Subjects simulated at once, each in its own process (-1: one per
        core). The files are the same for any value: each subject's data
        depend only on the configuration and the subject.

    Returns
    -------
    truth_dir : Path
        The folder the ground truth was written to.

    Raises
    ------
    ValueError
        If ``root`` or ``truth_dir`` exists and is not empty, or
        ``truth_dir`` is inside ``root``.
    """
    if not isinstance(config, SimulationConfig):
        raise TypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
    root = Path(root)
    truth_dir = default_truth_dir(root) if truth_dir is None else Path(truth_dir)
    root_abs, truth_abs = root.resolve(), truth_dir.resolve()
    if truth_abs == root_abs or root_abs in truth_abs.parents:
        raise ValueError(
            f"truth_dir {truth_dir} is inside the dataset root {root}: the ground truth "
            "must stay outside the data a decoder sees."
        )
    _check_empty_or_absent(root, "dataset root")
    _check_empty_or_absent(truth_dir, "truth folder")
    root.mkdir(parents=True, exist_ok=True)
    (truth_dir / PATTERNS_DIR).mkdir(parents=True, exist_ok=True)

    subjects_meta: dict[str, Any] = {}
    solution_rows: list[dict] = []
    train_imagine: list[pd.DataFrame] = []
    jobs = [(split, subject) for split, subjects in (("train", config.train_subjects),
            ("test", config.test_subjects)) for subject in subjects]  # fmt: skip
    for split in ("train", "test"):
        (root / split).mkdir(exist_ok=True)
    for (_, subject), (rows, labels, meta) in zip(
        jobs,
        map_forked(_simulate_and_write, [(s, subj, config, root, truth_dir) for s, subj in jobs], n_jobs),
        strict=True,
    ):
        solution_rows += rows
        if labels is not None:
            train_imagine.append(labels)
        subjects_meta[subject] = meta
    if train_imagine:
        _write_csv(pd.concat(train_imagine, ignore_index=True), root / "train" / layout.TRAIN_IMAGINE_LABELS)
    _write_csv(pd.DataFrame(solution_rows, columns=["ID", "label", "Usage"]), truth_dir / SOLUTION_FILE)
    metadata = {
        "simulator": "imagine-bench datasets.simulate",
        "simulator_version": SIMULATOR_VERSION,
        "seed": config.seed,
        "config": dataclasses.asdict(config),
        "versions": {"mne": mne.__version__, "numpy": np.__version__},
        "layout": {
            "localizer_window_s": list(LOCALIZER_WINDOW),
            "imagine_window_s": list(IMAGINE_WINDOW),
            "sfreq": sensors.SFREQ,
            "train_subjects": list(config.train_subjects),
            "test_subjects": list(config.test_subjects),
        },
        "subjects": subjects_meta,
    }
    (truth_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return truth_dir
