"""Synthetic epochs shared by the test modules: time axes, a subject with class patterns, a context.

Tiny arrays built with ``np.random.default_rng``, in the shape the harness
hands a decoder: localizer ``(n_epochs, n_channels, 121)`` at 100 Hz from
-0.2 s, imagine ``(n_epochs, n_channels, 521)``. Imported by tests; not a
test module.
"""

import numpy as np

from benchmark.contract import DecoderContext, TaskMemo
from datasets.layout import CLASS_NAMES

SFREQ = 100.0
LOC_TIMES = np.arange(121) / SFREQ - 0.2
IMG_TIMES = np.arange(521) / SFREQ - 0.2
N_CHANNELS = 12


def make_subject(seed: int, n_per_class: int = 6, signal: float = 2.0):
    """Localizer and imagine epochs with a class pattern peaking at 0.2 s / 1.0 s."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(len(CLASS_NAMES), N_CHANNELS))
    y = rng.permutation(np.repeat(np.asarray(CLASS_NAMES), n_per_class))
    idx = np.searchsorted(np.asarray(CLASS_NAMES), y)
    loc_course = np.exp(-0.5 * ((LOC_TIMES - 0.2) / 0.05) ** 2)
    X = rng.normal(size=(len(y), N_CHANNELS, LOC_TIMES.size)) + signal * patterns[idx][..., None] * loc_course
    y_img = rng.permutation(np.repeat(np.asarray(CLASS_NAMES), 2))
    img_course = np.exp(-0.5 * ((IMG_TIMES - 1.0) / 0.1) ** 2)
    idx_img = np.searchsorted(np.asarray(CLASS_NAMES), y_img)
    X_img = rng.normal(size=(len(y_img), N_CHANNELS, IMG_TIMES.size))
    X_img += signal * patterns[idx_img][..., None] * img_course
    return X.astype(np.float32), y, X_img.astype(np.float32), y_img


def context(seed: int = 0) -> DecoderContext:
    return DecoderContext(SFREQ, LOC_TIMES, IMG_TIMES, ("mag", "grad", "grad") * 4, CLASS_NAMES, seed)


def make_truth(seed: int, n_imagine: int, signal: float = 2.0) -> dict:
    """The ground truth of ``make_subject(seed, signal=signal)``, for oracle decoders."""
    patterns = np.random.default_rng(seed).normal(size=(len(CLASS_NAMES), N_CHANNELS))
    return {
        "class_names": np.asarray(CLASS_NAMES),
        "localizer_patterns": signal * patterns,
        "localizer_time_course": np.exp(-0.5 * ((LOC_TIMES - 0.2) / 0.05) ** 2),
        "imagery_patterns": signal * patterns,
        "imagine_envelopes": np.tile(np.exp(-0.5 * ((IMG_TIMES - 1.0) / 0.1) ** 2), (n_imagine, 1)),
    }


def fit_params(spec, X_img, others_seed=7, seed=0, signal=2.0):
    params = {}
    if "truth" in spec.uses:
        params["truth"] = make_truth(seed, len(X_img), signal)
    if "imagine" in spec.uses:
        params["X_imagine"] = X_img
    if "others" in spec.uses:
        X_o, y_o, _, _ = make_subject(others_seed)
        params["others"] = [(X_o, y_o)]
    if "memo" in spec.uses:
        params["memo"] = TaskMemo()
    return params


def make_induced_subject(seed: int, n_per_class: int = 20, signal: float = 1.0, freq: float = 17.0):
    """Epochs whose class is only in induced power: a class pattern carrying an oscillation of random phase.

    Localizer: the oscillation (``freq`` Hz, a random phase and a slightly
    random frequency on every trial) under a 0.1-0.7 s plateau; imagine: under
    a 1.0-2.5 s plateau. The trial average holds no class information.
    """
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(len(CLASS_NAMES), N_CHANNELS))

    def block(times, start, stop, n):
        labels = rng.permutation(np.repeat(np.asarray(CLASS_NAMES), n))
        idx = np.searchsorted(np.asarray(CLASS_NAMES), labels)
        plateau = ((times >= start) & (times <= stop)).astype(float)
        f = freq + rng.normal(0.0, 0.5, len(labels))[:, None]
        phase = rng.uniform(0.0, 2 * np.pi, len(labels))[:, None]
        wave = np.sin(2 * np.pi * f * times[None, :] + phase) * plateau
        X = rng.normal(size=(len(labels), N_CHANNELS, times.size))
        X += signal * patterns[idx][..., None] * wave[:, None, :]
        return X.astype(np.float32), labels

    X, y = block(LOC_TIMES, 0.1, 0.7, n_per_class)
    X_img, y_img = block(IMG_TIMES, 1.0, 2.5, 2)
    return X, y, X_img, y_img


def make_induced_truth(seed: int, n_imagine: int, signal: float = 1.0) -> dict:
    """The ground truth of ``make_induced_subject(seed, signal=signal)``, for oracle decoders."""
    patterns = np.random.default_rng(seed).normal(size=(len(CLASS_NAMES), N_CHANNELS))
    return {
        "class_names": np.asarray(CLASS_NAMES),
        "localizer_patterns": np.zeros_like(patterns),
        "localizer_time_course": np.zeros(LOC_TIMES.size),
        "imagine_intervals": np.tile([[[1.0, 2.5]]], (n_imagine, 1, 1)),
        "induced_localizer_patterns": signal * patterns,
        "induced_peak_hz": np.array(17.0),
        "induced_bandwidth_hz": np.array(1.0),
        "induced_localizer_time_course": ((LOC_TIMES >= 0.1) & (LOC_TIMES <= 0.7)).astype(float),
    }
