"""The records the adapter hands out: a subject's files, blocks of epochs, its data, a file header."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SubjectRef:
    """Where one subject's files are.

    Attributes
    ----------
    name : str
        Subject identifier such as ``"sub-02"``.
    split : str
        ``"train"`` (imagine labels available for scoring) or ``"test"``.
    path : Path
        The subject's folder.
    """

    name: str
    split: str
    path: Path


@dataclass(frozen=True, eq=False)
class Block:
    """One block of epochs (localizer or imagine), MEG channels only.

    Attributes
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times), float32
        MEG data in the file's units (T for magnetometers, T/m for gradiometers).
    times : ndarray, shape (n_times,)
        Time of each sample in seconds relative to the event.
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        MEG channel names, normalised to the ``MEG0113`` style.
    ch_types : tuple of str
        ``"mag"`` or ``"grad"`` per channel.
    baseline : tuple of float or None
        The baseline interval recorded in the file (``epochs.baseline``).
    trial_idx : ndarray of int, shape (n_epochs,)
        1-based position of each epoch in the file (the Kaggle ``trial_idx``).
    source : Path
        The ``-epo.fif`` the block was read from.
    """

    X: np.ndarray
    times: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    baseline: tuple[float, float] | None
    trial_idx: np.ndarray
    source: Path


@dataclass(frozen=True, eq=False)
class SubjectData:
    """Everything a decoder may learn from for one subject.

    Attributes
    ----------
    subject : str
        Subject identifier.
    split : str
        ``"train"`` or ``"test"``.
    localizer : Block
        Localizer epochs.
    localizer_labels : ndarray of str, shape (n_localizer_epochs,)
        Item name of each localizer epoch.
    imagine : Block
        Imagine epochs, without labels.
    """

    subject: str
    split: str
    localizer: Block
    localizer_labels: np.ndarray
    imagine: Block


@dataclass(frozen=True, eq=False)
class FileHeader:
    """What every subject's file of one kind must share with the others.

    Attributes
    ----------
    source : Path
        The ``-epo.fif`` file.
    sfreq : float
        Sampling rate in Hz.
    times : ndarray, shape (n_times,)
        Time of each sample in seconds.
    ch_names : tuple of str
        MEG channel names, normalised to the ``MEG0113`` style.
    """

    source: Path
    sfreq: float
    times: np.ndarray
    ch_names: tuple[str, ...]
