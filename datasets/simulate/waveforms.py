"""Time courses, colored noise and physiological artefacts of the simulator.

Part of :mod:`datasets.simulate`. Pure functions of their
arguments and of a :class:`numpy.random.Generator`; no MNE here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def gaussian_bump(t: FloatArray, peak: FloatArray | float, width: FloatArray | float) -> FloatArray:
    """Return ``exp(-(t - peak)**2 / (2 width**2))`` (broadcasting)."""
    return np.exp(-0.5 * ((t - peak) / width) ** 2)


def smooth_box(
    t: FloatArray,
    start: FloatArray | float,
    stop: FloatArray | float,
    rise: float,
    fall: float,
) -> FloatArray:
    """Return a plateau of height 1 from ``start`` to ``stop`` with raised-cosine edges.

    Parameters
    ----------
    t : ndarray
        Times (s), broadcast against ``start`` and ``stop``.
    start, stop : float or ndarray
        Beginning of the rise and end of the plateau (s).
    rise, fall : float
        Durations of the rising and falling edges (s).

    Returns
    -------
    envelope : ndarray
        Values in [0, 1].
    """
    up = np.clip((t - start) / rise, 0.0, 1.0)
    down = np.clip((t - stop) / fall, 0.0, 1.0)
    return 0.5 * (1 - np.cos(np.pi * up)) * 0.5 * (1 + np.cos(np.pi * down))


def shaped_noise(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    n_times: int,
    sfreq: float,
    spectrum: Callable[[FloatArray], FloatArray],
) -> FloatArray:
    """Draw Gaussian noise with a given amplitude spectrum, unit variance.

    The noise is shaped in the frequency domain over a segment at least twice
    as long as ``n_times`` and cropped, so the ends of an epoch are not
    wrapped onto each other.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    shape : tuple of int
        Leading dimensions (e.g. ``(n_epochs, n_components)``).
    n_times : int
        Number of samples returned along the last axis.
    sfreq : float
        Sampling rate (Hz).
    spectrum : callable
        Amplitude spectrum as a function of frequency (Hz), any scale.

    Returns
    -------
    noise : ndarray, shape (*shape, n_times)
        Stationary noise with unit variance per series (on average).
    """
    n_fft = int(2 ** np.ceil(np.log2(2 * n_times)))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sfreq)
    amp = np.asarray(spectrum(freqs), float)
    amp[0] = 0.0
    # Variance of irfft(amp * white spectrum) with unit-variance white input.
    weights = np.full(len(freqs), 2.0)
    weights[0] = 1.0
    if n_fft % 2 == 0:
        weights[-1] = 1.0
    power = np.sum(weights * amp**2) / n_fft
    if power <= 0:
        raise ValueError("The noise spectrum is zero at every frequency.")
    white = rng.standard_normal((*shape, n_fft))
    spec = np.fft.rfft(white, axis=-1)
    spec *= amp / np.sqrt(power)
    return np.fft.irfft(spec, n=n_fft, axis=-1)[..., :n_times]


def pink_spectrum(
    exponent: float, knee: float, white_floor: float, lowpass: float
) -> Callable[[FloatArray], FloatArray]:
    """Return the amplitude spectrum of 1/f**exponent noise with a white floor.

    Parameters
    ----------
    exponent : float
        Power-law exponent of the power spectrum.
    knee : float
        Frequency (Hz) under which the spectrum flattens.
    white_floor : float
        Power of the white part relative to the 1/f part at 1 Hz.
    lowpass : float
        Frequency (Hz) of a gentle roll-off (anti-alias filter of the
        decimation).

    Returns
    -------
    spectrum : callable
    """

    def spectrum(freqs: FloatArray) -> FloatArray:
        power = 1.0 / (freqs**exponent + knee**exponent) + white_floor
        rolloff = 1.0 / (1.0 + (freqs / lowpass) ** 8)
        return np.sqrt(power) * rolloff

    return spectrum


def alpha_spectrum(peak: float, width: float) -> Callable[[FloatArray], FloatArray]:
    """Return a Gaussian amplitude spectrum centred on ``peak`` Hz."""

    def spectrum(freqs: FloatArray) -> FloatArray:
        return gaussian_bump(freqs, peak, width)

    return spectrum


def event_train(
    rng: np.random.Generator,
    times: FloatArray,
    n_epochs: int,
    onsets: Callable[[np.random.Generator, float, float], FloatArray],
    template: Callable[[FloatArray], FloatArray],
    margin: float = 1.0,
    amplitude: Callable[[np.random.Generator, int], FloatArray] | None = None,
) -> FloatArray:
    """Sum a waveform template at random event times, epoch by epoch.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    times : ndarray, shape (n_times,)
        Epoch times (s).
    n_epochs : int
        Number of epochs.
    onsets : callable
        ``onsets(rng, start, stop)`` returns the event times in
        ``[start, stop)`` for one epoch.
    template : callable
        Waveform as a function of the time relative to the event (s).
    margin : float
        Events are drawn from ``margin`` s before the epoch to ``margin`` s
        after it, so partial waveforms appear at the edges.
    amplitude : callable | None
        ``amplitude(rng, n_events)`` returns one factor per event (e.g. a
        random sign); None for 1.

    Returns
    -------
    wave : ndarray, shape (n_epochs, n_times)
    """
    wave = np.zeros((n_epochs, len(times)))
    start, stop = times[0] - margin, times[-1] + margin
    for k in range(n_epochs):
        ev = onsets(rng, start, stop)
        if len(ev):
            shapes = template(times[None, :] - ev[:, None])
            if amplitude is not None:
                shapes *= amplitude(rng, len(ev))[:, None]
            wave[k] = shapes.sum(axis=0)
    return wave


def heartbeat_onsets(period: float, variability: float) -> Callable[..., FloatArray]:
    """Return an ``onsets`` function of quasi-periodic heartbeats."""

    def onsets(rng: np.random.Generator, start: float, stop: float) -> FloatArray:
        n = int(np.ceil((stop - start) / period)) + 2
        steps = period * (1.0 + variability * rng.standard_normal(n))
        beats = start - rng.uniform(0, period) + np.cumsum(steps)
        return beats[(beats >= start) & (beats < stop)]

    return onsets


def poisson_onsets(rate: float) -> Callable[..., FloatArray]:
    """Return an ``onsets`` function of a Poisson process of ``rate`` per s."""

    def onsets(rng: np.random.Generator, start: float, stop: float) -> FloatArray:
        n = rng.poisson(rate * (stop - start))
        return np.sort(rng.uniform(start, stop, n))

    return onsets


def ecg_template(t: FloatArray) -> FloatArray:
    """Return a P-QRS-T complex (peak R = 1) as a function of time from R (s)."""
    return (
        0.12 * gaussian_bump(t, -0.16, 0.025)
        - 0.15 * gaussian_bump(t, -0.025, 0.008)
        + 1.0 * gaussian_bump(t, 0.0, 0.011)
        - 0.25 * gaussian_bump(t, 0.03, 0.01)
        + 0.3 * gaussian_bump(t, 0.26, 0.05)
    )


def blink_template(t: FloatArray) -> FloatArray:
    """Return a blink (peak 1, ~300 ms) as a function of time from onset (s)."""
    return gaussian_bump(t, 0.12, 0.06) * (t > -0.1)


def saccade_template(t: FloatArray) -> FloatArray:
    """Return a saccade step (0 -> 1 in ~40 ms, slow return) from onset (s)."""
    step = 1.0 / (1.0 + np.exp(-t / 0.01))
    return step * np.exp(-np.clip(t, 0.0, None) / 1.5)
