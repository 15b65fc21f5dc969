"""The signals of one subject: its localizer and imagine blocks, evoked and induced.

Part of :mod:`datasets.simulate`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import layout
from . import sensors, waveforms
from .config import (
    BURST_EDGE_S,
    IMAGINE_FIRST_SAMPLE,
    IMAGINE_SAMPLE_STEP,
    IMAGINE_WINDOW,
    LOCALIZER_WINDOW,
    UV,
    SimulationConfig,
)
from .model import Block, InducedModel, SimulatedSubject, SubjectModel, build_subject_model, subject_streams

logger = logging.getLogger(__name__)


def _add_induced(
    meg: NDArray[np.float64],
    patterns: NDArray[np.float64],
    envelopes: NDArray[np.float64],
    induced: InducedModel,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Add ``patterns[i] * envelopes[i] * oscillation_i(t)`` to each epoch ``i`` of ``meg`` (in place).

    The oscillation is narrow-band Gaussian noise (unit variance, random
    phase on every trial) around the subject's peak frequency; its trial
    average is zero, so only power and covariance carry the class.

    Returns
    -------
    oscillations : ndarray, shape (n_epochs, n_times)
        The unit-variance oscillations (before the envelope).
    """
    n, _, n_t = meg.shape
    spectrum = waveforms.alpha_spectrum(induced.peak_hz, induced.bandwidth_hz)
    oscillations = waveforms.shaped_noise(rng, (n,), n_t, sensors.SFREQ, spectrum)
    meg += patterns[:, :, None] * (oscillations * envelopes)[:, None, :]
    return oscillations


def _background(
    model: SubjectModel,
    config: SimulationConfig,
    rng: np.random.Generator,
    n: int,
    times: NDArray[np.float64],
    alpha_gain: float,
    blink_rate: float,
) -> NDArray[np.float64]:
    """Sensor noise, alpha rhythm and physiological artefacts of ``n`` epochs.

    Returns
    -------
    data : ndarray, shape (n, n_channels, n_times)
        All channels of the info, in V, T and T/m.
    """
    sfreq = sensors.SFREQ
    n_t = len(times)
    info = model.info
    meg_spec = waveforms.pink_spectrum(
        config.noise_exponent, knee=0.5, white_floor=0.02, lowpass=sensors.LOWPASS
    )
    eog_spec = waveforms.pink_spectrum(1.5, knee=0.3, white_floor=0.01, lowpass=20.0)
    data = np.empty((n, len(info.ch_names), n_t))
    latent = waveforms.shaped_noise(rng, (n, model.noise_mix.shape[1]), n_t, sfreq, meg_spec)
    np.matmul(model.noise_mix, latent, out=data[:, model.meg])
    del latent
    alpha_src = waveforms.shaped_noise(
        rng, (n, model.alpha_patterns.shape[1]), n_t, sfreq, waveforms.alpha_spectrum(model.alpha_freq, 1.0)
    )
    alpha_env = 0.5 + rng.gamma(2.0, 0.5, (n, 1, 1))  # waxing and waning across trials
    data[:, model.meg] += np.matmul(model.alpha_patterns * alpha_gain, alpha_src * alpha_env)
    ecg = waveforms.event_train(
        rng, times, n, waveforms.heartbeat_onsets(model.heart_period, 0.05), waveforms.ecg_template
    )
    blinks = waveforms.event_train(
        rng, times, n, waveforms.poisson_onsets(blink_rate), waveforms.blink_template
    )
    saccades = waveforms.event_train(
        rng,
        times,
        n,
        waveforms.poisson_onsets(0.3),
        waveforms.saccade_template,
        amplitude=lambda r, m: r.choice([-1.0, 1.0], m) * r.uniform(0.5, 1.0, m),
    )
    leak = np.stack([model.heart_pattern, model.blink_pattern, model.saccade_pattern], axis=1)
    data[:, model.meg] += np.matmul(leak, np.stack([ecg, blinks, saccades], axis=1))
    bio = {name: info.ch_names.index(name) for name in layout.BIO_CHANNELS}
    eog_noise = waveforms.shaped_noise(rng, (n, 2), n_t, sfreq, eog_spec) * 10 * UV
    data[:, bio["ECG"]] = ecg * model.ecg_amp + rng.standard_normal((n, n_t)) * 15 * UV
    data[:, bio["VEOG"]] = blinks * model.blink_amp + 0.1 * saccades * model.saccade_amp + eog_noise[:, 0]
    data[:, bio["HEOG"]] = saccades * model.saccade_amp + 0.05 * blinks * model.blink_amp + eog_noise[:, 1]
    return data


def _trial_design(
    design: np.random.Generator, config: SimulationConfig, n_per_class: int, window: tuple[float, float]
) -> tuple[int, NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Draw a block's trials from ``design``: shuffled labels, then latency shifts, then amplitudes.

    Returns
    -------
    n : int
        Trials (``n_per_class`` per class).
    times : ndarray, shape (n_times,)
        The block's epoch times.
    labels : ndarray of int, shape (n,)
        Class index of each trial.
    shift, amp : ndarray, shape (n, 1)
        Latency shift (s) and amplitude factor of each trial's responses.
    """
    n_classes = len(layout.CLASS_NAMES)
    n = n_per_class * n_classes
    times = _epoch_times(*window, sensors.SFREQ)
    labels = design.permutation(np.repeat(np.arange(n_classes), n_per_class))
    shift = design.normal(0.0, config.latency_jitter_s, (n, 1))
    amp = np.exp(design.normal(0.0, config.amplitude_jitter, (n, 1)))
    return n, times, labels, shift, amp


def _localizer_block(
    model: SubjectModel, config: SimulationConfig, design: np.random.Generator, noise: np.random.Generator
) -> tuple[Block, dict[str, NDArray[np.float64]]]:
    """Simulate the localizer: early visual + class-specific responses on the background.

    Returns
    -------
    block : Block
    jitter : dict
        Per-trial latency ``shifts`` (s) and ``amplitudes`` of the responses.
    """
    per_class = config.n_localizer_per_class
    n, times, labels, shift, amp = _trial_design(design, config, per_class, LOCALIZER_WINDOW)
    samples = _localizer_samples(design, n, sensors.SFREQ)
    data = _background(model, config, noise, n, times, 1.0, config.blink_rate_hz[0])
    t_shift = times[None, :] - shift
    v1_course = np.stack(
        [
            waveforms.gaussian_bump(t_shift, 0.095 + 0.01 * j, 0.02)
            - 0.6 * waveforms.gaussian_bump(t_shift, 0.17 + 0.01 * j, 0.035)
            for j in range(model.v1_patterns.shape[1])
        ],
        axis=1,
    )  # (n, 2, n_times)
    class_tc = model.class_course(t_shift) * amp  # (n, n_times)
    meg = data[:, model.meg]
    meg += np.matmul(model.v1_patterns, v1_course * amp[:, :, None])
    meg += (model.visual_patterns[labels] + model.common_ot)[:, :, None] * class_tc[:, None, :]
    block = Block(data, labels, samples, LOCALIZER_WINDOW[0])
    return block, {"shifts": shift[:, 0], "amplitudes": amp[:, 0]}


def _imagine_block(
    model: SubjectModel, config: SimulationConfig, design: np.random.Generator, noise: np.random.Generator
) -> tuple[Block, dict[str, NDArray[np.float64]]]:
    """Simulate the imagine block: word response + delayed, long imagery responses.

    Returns
    -------
    block : Block
    timing : dict
        ``onsets`` and ``durations`` (s) of the imagery plateau per trial and
        its ``envelopes`` ``(n, n_times)`` (amplitude of the class pattern).
    """
    n, times, labels, shift, amp = _trial_design(design, config, model.n_imagine_per_class, IMAGINE_WINDOW)
    t_shift = times[None, :] - shift
    aud_course = (
        waveforms.gaussian_bump(t_shift, 0.1, 0.025)
        + 0.4 * waveforms.smooth_box(t_shift, 0.15, 0.5, 0.05, 0.1)
    ) * amp
    onsets, durations, shapes = _imagery_shapes(model, config, design, times, n)
    img_amp = config.imagery_gain * np.exp(design.normal(0.0, config.amplitude_jitter, n))
    data = _background(model, config, noise, n, times, config.eyes_closed_alpha_gain, config.blink_rate_hz[1])
    envelopes = shapes * img_amp[:, None]
    meg = data[:, model.meg]
    meg += model.aud_patterns.sum(axis=1)[None, :, None] * aud_course[:, None, :]
    meg += model.imagery_patterns[labels][:, :, None] * envelopes[:, None, :]
    samples = IMAGINE_FIRST_SAMPLE + IMAGINE_SAMPLE_STEP * np.arange(n)
    block = Block(data, labels, samples, IMAGINE_WINDOW[0])
    return block, {
        "onsets": onsets,
        "durations": durations,
        "envelopes": envelopes,
        "intervals": half_max_intervals(shapes, times),
    }


def _imagery_shapes(
    model: SubjectModel,
    config: SimulationConfig,
    design: np.random.Generator,
    times: NDArray[np.float64],
    n: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Draw the imagery time course (peak 1) of ``n`` trials for ``config.imagery_timing``.

    ``"sustained"`` draws exactly what simulator 1.0.0 drew (same calls on
    ``design``, same arithmetic), so the default data stay byte-identical.

    Returns
    -------
    onsets : ndarray, shape (n,)
        Onset (s) of each trial's (first) imagery event.
    durations : ndarray, shape (n,)
        Duration (s) of that event (plateau length for sustained imagery,
        total length, edges included, for a burst).
    shapes : ndarray, shape (n, n_times)
        Time courses in [0, 1].
    """
    t = times[None, :]
    timing = config.imagery_timing
    if timing in ("sustained", "late"):
        if timing == "sustained":
            onsets = np.clip(
                model.onset_mean + design.normal(0.0, config.imagery_onset_jitter_s, n),
                *config.imagery_onset_range_s,
            )
        else:
            onsets = design.uniform(*config.late_onset_range_s, n)
        durations = design.uniform(*config.imagery_duration_range_s, n)
        return (
            onsets,
            durations,
            waveforms.smooth_box(t, onsets[:, None], (onsets + durations)[:, None], 0.3, 0.5),
        )
    if timing == "brief":
        onsets = design.uniform(*config.burst_onset_range_s, n)
        durations = design.uniform(*config.burst_duration_range_s, n)
        return onsets, durations, _burst(t, onsets[:, None], durations[:, None])
    # reactivations: several bursts per trial; overlapping bursts merge (maximum).
    counts = design.integers(config.n_reactivations[0], config.n_reactivations[1] + 1, n)
    onsets, durations = np.empty(n), np.empty(n)
    shapes = np.zeros((n, len(times)))
    for k, count in enumerate(counts):
        starts = np.sort(design.uniform(*config.reactivation_range_s, count))
        lengths = design.uniform(*config.burst_duration_range_s, count)
        shapes[k] = _burst(t, starts[:, None], lengths[:, None]).max(axis=0)
        onsets[k], durations[k] = starts[0], lengths[0]
    return onsets, durations, shapes


def _burst(
    t: NDArray[np.float64], onset: NDArray[np.float64], duration: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return a burst of total length ``duration`` from ``onset`` (raised-cosine edges)."""
    return waveforms.smooth_box(t, onset, onset + duration - BURST_EDGE_S, BURST_EDGE_S, BURST_EDGE_S)


def half_max_intervals(shapes: NDArray[np.float64], times: NDArray[np.float64]) -> NDArray[np.float64]:
    """Intervals (s) where each trial's imagery time course is at least half its peak.

    Parameters
    ----------
    shapes : ndarray, shape (n_trials, n_times)
        Imagery time courses (any positive scale per trial).
    times : ndarray, shape (n_times,)
        Sample times (s).

    Returns
    -------
    intervals : ndarray, shape (n_trials, max_intervals, 2)
        ``[first, last]`` sample time of each run of samples at or above half
        the trial's peak, in time order; rows padded with NaN. A trial
        without imagery (all zeros) has only NaN.
    """
    runs: list[list[tuple[float, float]]] = []
    for shape in np.asarray(shapes, dtype=np.float64):
        peak = shape.max()
        if peak <= 0:
            runs.append([])
            continue
        above = np.concatenate([[False], shape >= 0.5 * peak, [False]])
        edges = np.flatnonzero(np.diff(above.astype(np.int8)))
        runs.append(
            [(float(times[a]), float(times[b - 1])) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        )
    out = np.full((len(runs), max(1, max((len(r) for r in runs), default=0)), 2), np.nan)
    for k, trial in enumerate(runs):
        if trial:
            out[k, : len(trial)] = trial
    return out


def simulate_subject(subject: str, config: SimulationConfig) -> SimulatedSubject:
    """Simulate both blocks of one subject, with their ground truth."""
    streams = subject_streams(config.seed, subject)
    model = build_subject_model(subject, config, streams["subject"], streams["induced"])
    localizer, loc_jitter = _localizer_block(
        model, config, streams["localizer_design"], streams["localizer_noise"]
    )
    imagine, timing = _imagine_block(model, config, streams["imagine_design"], streams["imagine_noise"])
    names = np.array(layout.CLASS_NAMES)
    loc_times = _epoch_times(*LOCALIZER_WINDOW, sensors.SFREQ)
    induced_truth: dict[str, NDArray[Any]] = {}
    if model.induced is not None:
        induced_truth = _induced_blocks(
            model, config, localizer, imagine, timing, loc_times, streams["induced"]
        )
    truth = {
        "ch_names": np.array(model.info.ch_names[model.meg]),
        "class_names": names,
        "localizer_patterns": model.visual_patterns,
        "nonvisual_patterns": model.nonvisual_patterns,
        "imagery_patterns": model.imagery_patterns,
        "common_localizer_pattern": model.common_ot,
        "localizer_times": loc_times,
        "localizer_time_course": model.class_course(loc_times),
        "localizer_labels": names[localizer.labels],
        "localizer_latency_shifts": loc_jitter["shifts"],
        "localizer_amplitudes": loc_jitter["amplitudes"],
        "imagine_times": _epoch_times(*IMAGINE_WINDOW, sensors.SFREQ),
        "imagine_labels": names[imagine.labels],
        "imagine_trial_idx": np.arange(1, len(imagine.labels) + 1),
        "imagine_onsets": timing["onsets"],
        "imagine_durations": timing["durations"],
        "imagine_envelopes": timing["envelopes"],
        "imagine_intervals": timing["intervals"],
        "sss_rank": np.array(model.metadata["sss_rank"]),
        **induced_truth,
    }
    metadata = {
        **model.metadata,
        "imagery_onsets_s": [round(float(v), 4) for v in timing["onsets"]],
    }
    return SimulatedSubject(subject, model.info, localizer, imagine, truth, metadata)


def _induced_blocks(
    model: SubjectModel,
    config: SimulationConfig,
    localizer: Block,
    imagine: Block,
    timing: dict[str, NDArray[np.float64]],
    loc_times: NDArray[np.float64],
    rng: np.random.Generator,
) -> dict[str, NDArray[Any]]:
    """Add the induced code to both blocks (in place); return its ground truth.

    Localizer: each trial's class topography carries the oscillation over
    ``induced_window_s`` after the picture, with a trial amplitude jitter.
    Imagine: the class's imagery topography carries it under the trial's
    imagery envelope (the evoked imagery's time course and amplitude).
    Every random number comes from ``rng`` (the subject's ``"induced"``
    stream).
    """
    induced = model.induced
    n = len(localizer.labels)
    amp = np.exp(rng.normal(0.0, config.amplitude_jitter, n))
    lo, hi = config.induced_window_s
    course = waveforms.smooth_box(loc_times, lo, hi, 0.1, 0.15)
    _add_induced(
        localizer.data[:, model.meg],
        induced.localizer_patterns[localizer.labels],
        course[None, :] * amp[:, None],
        induced,
        rng,
    )
    _add_induced(
        imagine.data[:, model.meg],
        induced.imagery_patterns[imagine.labels],
        timing["envelopes"],
        induced,
        rng,
    )
    return {
        "induced_localizer_patterns": induced.localizer_patterns,
        "induced_nonvisual_patterns": induced.nonvisual_patterns,
        "induced_imagery_patterns": induced.imagery_patterns,
        "induced_localizer_time_course": course,
        "induced_localizer_amplitudes": amp,
        "induced_peak_hz": np.array(induced.peak_hz),
        "induced_bandwidth_hz": np.array(induced.bandwidth_hz),
    }


def _epoch_times(tmin: float, tmax: float, sfreq: float) -> NDArray[np.float64]:
    n = int(round((tmax - tmin) * sfreq)) + 1
    return tmin + np.arange(n) / sfreq


def _localizer_samples(rng: np.random.Generator, n: int, sfreq: float) -> NDArray[np.int64]:
    """Event samples of a continuous session: ~1.6 s ISI, a break every 96 trials."""
    isi = rng.uniform(1.4, 1.8, n)
    isi[96::96] += rng.uniform(30.0, 90.0, len(isi[96::96]))
    start = rng.uniform(20.0, 60.0)
    return np.round((start + np.cumsum(isi)) * sfreq).astype(np.int64)
