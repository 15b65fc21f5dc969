"""The IMAGINE challenge's official file layout, in one place.

Everything that reads or writes challenge files (the adapter, the simulator,
the Kaggle export) takes file names, class names and CSV columns from here.
"""

from __future__ import annotations

from pathlib import Path

#: The ten items, sorted alphabetically; event code = position + 1.
CLASS_NAMES: tuple[str, ...] = (
    "apple",
    "bicycle",
    "brush",
    "cake",
    "clown",
    "cup",
    "desk",
    "foot",
    "mountain",
    "zebra",
)

#: ``{'apple': 1, ..., 'zebra': 10}`` as written in the official ``-epo.fif``.
EVENT_ID: dict[str, int] = {name: i + 1 for i, name in enumerate(CLASS_NAMES)}

#: Chance level of top-1 accuracy with ten balanced classes.
CHANCE = 1.0 / len(CLASS_NAMES)

SPLITS: tuple[str, ...] = ("train", "test")

#: Columns of ``sub-XX_localizer-labels.csv`` and ``sub-XX_imagine-labels.csv``.
LABEL_COLUMNS: tuple[str, ...] = ("subject", "trial_idx", "label", "trigger", "trial_type")

#: Name of the all-subjects imagine label file under ``train/``.
TRAIN_IMAGINE_LABELS = "labels_imagine-train.csv"

#: Prefix of the event names of test imagine epochs (``unknown/1`` ...).
UNKNOWN_PREFIX = "unknown/"

#: The bio channels the organisers kept beside the MEG channels.
BIO_CHANNELS: dict[str, str] = {"ECG": "ecg", "HEOG": "eog", "VEOG": "eog"}


def localizer_epochs_file(subject_dir: Path, subject: str) -> Path:
    """Return the localizer ``-epo.fif`` path of ``subject``."""
    return subject_dir / f"{subject}_localizer-epo.fif"


def localizer_labels_file(subject_dir: Path, subject: str) -> Path:
    """Return the localizer labels CSV path of ``subject``."""
    return subject_dir / f"{subject}_localizer-labels.csv"


def imagine_epochs_file(subject_dir: Path, subject: str) -> Path:
    """Return the imagine ``-epo.fif`` path of ``subject``."""
    return subject_dir / f"{subject}_imagine-epo.fif"


def imagine_labels_file(subject_dir: Path, subject: str) -> Path:
    """Return the imagine labels CSV path of ``subject`` (train subjects only)."""
    return subject_dir / f"{subject}_imagine-labels.csv"


def submission_id(subject: str, trial_idx: int) -> str:
    """Return the Kaggle row ID ``sub-XX_<trial_idx>`` (``trial_idx`` 1-based)."""
    return f"{subject}_{int(trial_idx)}"
