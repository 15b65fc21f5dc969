"""A small dataset in the official layout, written with plain MNE (not with ``datasets.simulate``).

The files are made the way the organisers' script makes them (``mne.EpochsArray``
with MNE's default baseline, Vectorview-style ``MEG 0113`` names, Kaggle's
nested ``train/train`` folders), independently of ``datasets.simulate``, so the
adapter is tested on data the project did not generate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from datasets import layout

N_MEG_TRIPLETS = 8  # each a magnetometer + two gradiometers: 24 MEG channels


def _info(sfreq: float = 100.0):
    import mne

    names, types = [], []
    for i in range(N_MEG_TRIPLETS):
        code = f"{(i // 4) + 1:02d}{(i % 4) + 1}"
        names += [f"MEG {code}1", f"MEG {code}2", f"MEG {code}3"]
        types += ["mag", "grad", "grad"]
    names += list(layout.BIO_CHANNELS)
    types += list(layout.BIO_CHANNELS.values())
    return mne.create_info(names, sfreq, types)


def _labels_frame(subject: str, labels: np.ndarray, trial_type: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject": subject,
            "trial_idx": np.arange(1, len(labels) + 1),
            "label": labels,
            "trigger": [layout.EVENT_ID[lab] for lab in labels],
            "trial_type": trial_type,
        }
    )


def write_subject(
    split_dir: Path,
    subject: str,
    *,
    rng: np.random.Generator,
    train: bool,
    n_loc_per_class: int = 8,
    n_img_per_class: int = 3,
    signal: float = 3.0,
    transfer: float = 1.0,
) -> pd.DataFrame | None:
    """Write one subject's files; return its imagine labels frame (train only)."""
    import mne

    info = _info()
    n_meg = 3 * N_MEG_TRIPLETS
    units = np.tile([1e-13, 1e-11, 1e-11], N_MEG_TRIPLETS)  # T and T/m scales
    patterns = rng.normal(size=(len(layout.CLASS_NAMES), n_meg))
    folder = split_dir / subject
    folder.mkdir(parents=True)

    def block(labels: np.ndarray, tmax: float, onset: float, gain: float) -> np.ndarray:
        times = np.arange(int(round((tmax + 0.2) * 100)) + 1) / 100 - 0.2
        course = np.exp(-0.5 * ((times - onset) / 0.05) ** 2)
        idx = np.searchsorted(np.asarray(layout.CLASS_NAMES), labels)
        data = rng.normal(size=(len(labels), n_meg, times.size))
        data += gain * signal * patterns[idx][:, :, None] * course
        data *= units[None, :, None]
        bio = rng.normal(size=(len(labels), 3, times.size)) * 1e-5
        return np.concatenate([data, bio], axis=1)

    loc_labels = rng.permutation(np.repeat(layout.CLASS_NAMES, n_loc_per_class))
    events = np.c_[np.arange(len(loc_labels)) * 150 + 100, np.zeros(len(loc_labels), int),
                   [layout.EVENT_ID[lab] for lab in loc_labels]]  # fmt: skip
    loc = mne.EpochsArray(block(loc_labels, 1.0, 0.2, 1.0), info, events, tmin=-0.2,
                          event_id=layout.EVENT_ID, baseline=(None, 0), verbose="error")  # fmt: skip
    loc.save(layout.localizer_epochs_file(folder, subject), fmt="single", verbose="error")
    _labels_frame(subject, loc_labels, "localizer").to_csv(
        layout.localizer_labels_file(folder, subject), index=False
    )

    img_labels = rng.permutation(np.repeat(layout.CLASS_NAMES, n_img_per_class))
    n = len(img_labels)
    if train:
        codes = [layout.EVENT_ID[lab] for lab in img_labels]
        event_id = layout.EVENT_ID
    else:
        codes = list(range(1, n + 1))
        event_id = {f"{layout.UNKNOWN_PREFIX}{i}": i for i in codes}
    events = np.c_[100 + 200 * np.arange(n), np.zeros(n, int), codes]
    img = mne.EpochsArray(block(img_labels, 5.0, 1.0, transfer), info, events, tmin=-0.2,
                          event_id=event_id, baseline=(None, 0), verbose="error")  # fmt: skip
    img.save(layout.imagine_epochs_file(folder, subject), fmt="single", verbose="error")
    frame = _labels_frame(subject, img_labels, "imagine")
    if train:
        frame.to_csv(layout.imagine_labels_file(folder, subject), index=False)
        return frame
    return None


def write_foreign_dataset(
    root: Path, *, n_train: int = 2, n_test: int = 1, nested: bool = True, seed: int = 0, **kwargs
) -> Path:
    """Write a small dataset in the official layout; return ``root``."""
    rng = np.random.default_rng(seed)
    frames = []
    for split, count, first in (("train", n_train, 2), ("test", n_test, 40)):
        split_dir = root / split / split if nested else root / split
        for k in range(count):
            frame = write_subject(
                split_dir, f"sub-{first + k:02d}", rng=rng, train=split == "train", **kwargs
            )
            if frame is not None:
                frames.append(frame)
    if frames:
        pd.concat(frames).to_csv(root / "train" / layout.TRAIN_IMAGINE_LABELS, index=False)
    return root
