"""The subject model: one subject's anatomy, sources, sensor patterns and noise model.

Part of :mod:`datasets.simulate`. Drawn once per subject from its own random streams.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import mne
import numpy as np
from numpy.typing import NDArray

from .. import layout
from . import sensors, waveforms
from .config import FT, NAM, TEST_SUBJECTS, TRAIN_SUBJECTS, UV, SimulationConfig

logger = logging.getLogger(__name__)


@dataclass
class Block:
    """Simulated epochs of one block, before writing."""

    data: NDArray[np.float64]
    labels: NDArray[np.int64]  # class index 0..9 per epoch
    samples: NDArray[np.int64]  # event sample numbers
    tmin: float


@dataclass
class SimulatedSubject:
    """Everything simulated for one subject."""

    subject: str
    info: mne.Info
    localizer: Block
    imagine: Block
    truth: dict[str, NDArray[Any]]
    metadata: dict[str, Any]


#: Independent random streams of one subject: changing the number of trials or
#: the noise model of one block leaves the subject's anatomy, its other block
#: and its trial design (labels, onsets) unchanged.
_STREAMS: tuple[str, ...] = (
    "subject",
    "localizer_design",
    "localizer_noise",
    "imagine_design",
    "imagine_noise",
    "induced",
)


def subject_streams(seed: int, subject: str) -> dict[str, np.random.Generator]:
    """Return the independent random streams of ``subject`` (see ``_STREAMS``), drawn from ``seed``."""
    number = int(subject.split("-")[1])
    root = np.random.SeedSequence(entropy=seed, spawn_key=(number,))
    return {
        name: np.random.default_rng(child)
        for name, child in zip(_STREAMS, root.spawn(len(_STREAMS)), strict=True)
    }


def _region_masks(rr: NDArray[np.float64]) -> dict[str, NDArray[np.bool_]]:
    """Boolean masks of anatomically plausible regions on the source grid."""
    x, y, z = (rr - np.asarray(sensors.SPHERE_ORIGIN)).T
    ax = np.abs(x)
    return {
        "v1": (y < -0.045) & (ax < 0.025) & (z > -0.005) & (z < 0.035),
        "ot": (y > -0.065) & (y < -0.015) & (ax > 0.02) & (ax < 0.062) & (z < 0.02),
        "nonvisual": y > -0.005,
        "aud_left": (x < -0.04) & (x > -0.066) & (np.abs(y) < 0.02) & (z > -0.015) & (z < 0.025),
        "aud_right": (x > 0.04) & (x < 0.066) & (np.abs(y) < 0.02) & (z > -0.015) & (z < 0.025),
        "alpha": (y < -0.03) & (z > 0.02),
        "eyes": (y > 0.05) & (z < 0.0),
        "heart": (z < -0.025) & (ax < 0.03),
    }


def _pick(
    rng: np.random.Generator, rr: NDArray[np.float64], mask: NDArray[np.bool_], n: int, name: str
) -> NDArray[np.float64]:
    candidates = np.flatnonzero(mask)
    if len(candidates) < n:
        raise ValueError(f"Source region {name!r} has {len(candidates)} grid points, need {n}")
    return rr[rng.choice(candidates, n, replace=False)]


def _scale_to_peak_mag(
    pattern: NDArray[np.float64], mag_idx: NDArray[np.int64], peak: float
) -> NDArray[np.float64]:
    return pattern * (peak / np.max(np.abs(pattern[mag_idx])))


def is_weak_subject(subject: str, config: SimulationConfig) -> bool:
    """Whether ``subject`` is one of the weak subjects of ``config`` (see ``weak_subject_period``).

    Parameters
    ----------
    subject : str
        Subject ID (``sub-XX``).
    config : SimulationConfig
        The simulation's parameters.

    Returns
    -------
    bool
        True for every ``weak_subject_period``-th subject of the study's
        order (train subjects, then test subjects); always False when the
        period is 0 or the ID is not one of the study's.
    """
    order = TRAIN_SUBJECTS + TEST_SUBJECTS
    period = int(config.weak_subject_period)
    if period <= 0 or subject not in order:
        return False
    return order.index(subject) % period == period - 1


def _sensor_noise_sd(ratio: float, mag_idx: NDArray[np.int64], n_meg: int) -> NDArray[np.float64]:
    """SD (n_meg,) of independent sensor noise: ``ratio`` x the median noise SD of each sensor type.

    Every channel, including one the real covariance lacks, gets noise: the
    data become full rank.
    """
    sd = np.sqrt(np.diag(sensors.noise_covariance()))
    is_mag = np.zeros(n_meg, dtype=bool)
    is_mag[mag_idx] = True
    level = np.empty(n_meg)
    for mask in (is_mag, ~is_mag):
        level[mask] = np.median(sd[mask][sd[mask] > 0])
    return ratio * level


def _whitened_spread(patterns: NDArray[np.float64], whitener: NDArray[np.float64]) -> float:
    """RMS noise-whitened distance of class patterns (rows) from their mean."""
    deviations = (patterns - patterns.mean(axis=0)) @ whitener.T
    return float(np.sqrt(np.mean(np.sum(deviations**2, axis=1))))


def _noise_mixing(cov: NDArray[np.float64], sss: NDArray[np.float64]) -> NDArray[np.float64]:
    """Square root (n_meg x rank) of the SSS-projected noise covariance."""
    proj = sss @ cov @ sss.T
    proj = 0.5 * (proj + proj.T)
    evals, evecs = np.linalg.eigh(proj)
    keep = evals > evals.max() * 1e-8
    return evecs[:, keep] * np.sqrt(evals[keep])


@dataclass(frozen=True)
class InducedModel:
    """The class-specific induced (oscillatory) activity of one subject.

    Topographies are fields of the subject's projector (SSS or none), shape
    ``(n_classes, n_meg)``, multiplying a unit-variance narrow-band
    oscillation whose phase is random on every trial.
    """

    localizer_patterns: NDArray[np.float64]
    imagery_patterns: NDArray[np.float64]
    nonvisual_patterns: NDArray[np.float64]
    peak_hz: float
    bandwidth_hz: float


@dataclass(frozen=True)
class SubjectModel:
    """The anatomy and physiology of one simulated subject (no trial data).

    Sensor patterns are SSS-projected fields, shape ``(n_meg,)`` or
    ``(n_meg, n_sources)``, in T (magnetometers) and T/m (gradiometers).
    """

    subject: str
    info: mne.Info
    meg: slice  # MEG channels in info
    visual_patterns: NDArray[np.float64]  # (n_classes, n_meg), localizer class code
    nonvisual_patterns: NDArray[np.float64]  # (n_classes, n_meg)
    imagery_patterns: NDArray[np.float64]  # (n_classes, n_meg)
    common_ot: NDArray[np.float64]  # (n_meg,)
    v1_patterns: NDArray[np.float64]  # (n_meg, 2)
    aud_patterns: NDArray[np.float64]  # (n_meg, 2)
    alpha_patterns: NDArray[np.float64]  # (n_meg, 3)
    heart_pattern: NDArray[np.float64]
    blink_pattern: NDArray[np.float64]
    saccade_pattern: NDArray[np.float64]
    noise_mix: NDArray[np.float64]  # (n_meg, rank): noise = noise_mix @ white
    class_peak: float
    class_width: float
    alpha_freq: float
    heart_period: float
    ecg_amp: float
    blink_amp: float
    saccade_amp: float
    onset_mean: float
    n_imagine_per_class: int
    metadata: dict[str, Any]
    induced: InducedModel | None = None

    def class_course(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Time course of the class-specific localizer response (peak ~1)."""
        return waveforms.gaussian_bump(t, self.class_peak, self.class_width) + 0.35 * waveforms.gaussian_bump(
            t, self.class_peak + 0.2, 0.12
        )


def build_subject_model(
    subject: str,
    config: SimulationConfig,
    rng: np.random.Generator,
    induced_rng: np.random.Generator | None = None,
) -> SubjectModel:
    """Draw the head position, sources, sensor patterns and physiology of a subject.

    ``induced_rng`` (the subject's own ``"induced"`` stream) draws the
    induced code when ``config.induced_separation > 0``; ``rng`` never does.
    """
    n_classes = len(layout.CLASS_NAMES)
    jitter = sensors.random_rigid_transform(rng, config.head_rotation_deg, config.head_translation_mm * 1e-3)
    number = int(subject.split("-")[1])
    head = sensors.subject_head_model(jitter, config.sss_int_order, meas_date_days=7 * number)
    info = head.info
    n_meg = len(head.meg_idx)
    if not np.array_equal(head.meg_idx, np.arange(head.meg_idx[0], head.meg_idx[0] + n_meg)):
        raise ValueError("The simulator's info must hold its MEG channels contiguously.")
    mag_idx = mne.pick_types(mne.pick_info(info, head.meg_idx), meg="mag")

    # Sources on anatomically plausible parts of the grid; forward model.
    grid = sensors.source_grid()
    masks = _region_masks(grid)
    k = config.n_class_sources
    groups = {
        "v1": _pick(rng, grid, masks["v1"], 2, "v1"),
        "ot": _pick(rng, grid, masks["ot"], k, "ot"),
        "nonvisual": _pick(rng, grid, masks["nonvisual"], k, "nonvisual"),
        "auditory": np.concatenate(
            [
                _pick(rng, grid, masks["aud_left"], 1, "aud_left"),
                _pick(rng, grid, masks["aud_right"], 1, "aud_right"),
            ]
        ),
        "alpha": _pick(rng, grid, masks["alpha"], 3, "alpha"),
        "eyes": _pick(rng, grid, masks["eyes"], 2, "eyes"),
        "heart": _pick(rng, grid, masks["heart"], 1, "heart"),
    }
    rr = np.concatenate(list(groups.values()))
    nn = sensors.tangential_orientations(rr, rng)
    # The projector of the data: SSS (rank ~70) or none (full-rank sensors).
    proj = head.sss if config.sss_projection else np.eye(n_meg)
    gain = proj @ sensors.dipole_gain(info, rr, nn)
    bounds = np.cumsum([0] + [len(v) for v in groups.values()])
    # SSS-projected fields of unit dipoles, (n_meg, n_sources_in_group).
    g = {name: gain[:, bounds[i] : bounds[i + 1]] for i, name in enumerate(groups)}

    noise_cov = sensors.noise_covariance()
    if not config.sss_projection:
        noise_cov = noise_cov + np.diag(_sensor_noise_sd(config.sensor_noise_ratio, mag_idx, n_meg) ** 2)
    base_mix = _noise_mixing(noise_cov, proj)
    whitener = np.linalg.pinv(base_mix)  # sensor space -> noise-whitened space
    subject_gain = float(np.exp(rng.normal(0.0, config.subject_gain_sd)))
    weak = is_weak_subject(subject, config)
    # Class code: random moments of the occipito-temporal dipoles, scaled so
    # that the classes' whitened distance from their mean is set by the config
    # (the depth and spread of the dipoles would otherwise dominate).
    visual = (g["ot"] @ rng.standard_normal((k, n_classes))).T
    spread = _whitened_spread(visual, whitener)
    target = config.class_separation * config.snr * subject_gain
    if weak:
        target *= config.weak_subject_gain
    visual *= target / spread
    nonvisual = (g["nonvisual"] @ rng.standard_normal((k, n_classes))).T
    nonvisual *= _whitened_spread(visual, whitener) / _whitened_spread(nonvisual, whitener)
    if config.evoked_gain != 1.0:  # 1.0: simulator 1.0.0's arithmetic, untouched
        visual = visual * config.evoked_gain
        nonvisual = nonvisual * config.evoked_gain
    common_ot = g["ot"] @ rng.standard_normal(k) * config.common_ot_amplitude_nam * NAM
    noise_mix = base_mix * config.noise_scale * float(np.exp(rng.normal(0.0, 0.15)))

    onset_lo, onset_hi = config.imagery_onset_range_s
    params = {
        "class_peak": float(rng.uniform(*config.class_peak_range_s)),
        "class_width": float(rng.uniform(*config.class_width_range_s)),
        "alpha_freq": float(rng.uniform(9.0, 11.5)),
        "heart_period": float(rng.uniform(0.75, 1.1)),
        "ecg_amp": float(rng.uniform(0.5, 1.5)) * 1e-3,
        "blink_amp": float(rng.uniform(100.0, 300.0)) * UV,
        "saccade_amp": float(rng.uniform(20.0, 60.0)) * UV,
        "onset_mean": float(rng.uniform(onset_lo, onset_lo + 0.6 * (onset_hi - onset_lo))),
        "n_imagine_per_class": int(
            rng.integers(config.n_imagine_per_class[0], config.n_imagine_per_class[1] + 1)
        ),
    }
    metadata = {
        "n_imagine_per_class": params["n_imagine_per_class"],
        "subject_gain": subject_gain,
        "class_moment_sd_nam": target / spread / NAM,
        "class_peak_latency_s": params["class_peak"],
        "class_width_s": params["class_width"],
        "imagery_onset_mean_s": params["onset_mean"],
        "alpha_frequency_hz": params["alpha_freq"],
        "heart_period_s": params["heart_period"],
        "sss_rank": head.n_sss if config.sss_projection else n_meg,
        "weak_subject": weak,
        "dev_head_t": np.round(info["dev_head_t"]["trans"], 6).tolist(),
    }
    induced = None
    if config.induced_separation > 0:
        if induced_rng is None:
            raise ValueError("induced activity needs its own random stream (induced_rng).")
        gain_scale = config.induced_separation * config.snr * subject_gain
        if weak:
            gain_scale *= config.weak_subject_gain
        induced = build_induced_model(
            config, induced_rng, grid, masks, info, proj, whitener, gain_scale, n_classes
        )
        metadata["induced_peak_hz"] = induced.peak_hz
    start = int(head.meg_idx[0])
    return SubjectModel(
        subject=subject,
        info=info,
        meg=slice(start, start + n_meg),
        visual_patterns=visual,
        nonvisual_patterns=nonvisual,
        imagery_patterns=config.alpha * visual + (1 - config.alpha) * nonvisual,
        common_ot=common_ot,
        v1_patterns=g["v1"] * config.visual_amplitude_nam * NAM,
        aud_patterns=g["auditory"] * config.auditory_amplitude_nam * NAM,
        alpha_patterns=g["alpha"] * config.alpha_amplitude_nam * NAM,
        heart_pattern=_scale_to_peak_mag(g["heart"][:, 0], mag_idx, config.heart_leak_ft * FT),
        blink_pattern=_scale_to_peak_mag(g["eyes"][:, 0], mag_idx, config.blink_leak_ft * FT),
        saccade_pattern=_scale_to_peak_mag(g["eyes"][:, 1], mag_idx, 0.3 * config.blink_leak_ft * FT),
        noise_mix=noise_mix,
        metadata=metadata,
        induced=induced,
        **params,
    )


def build_induced_model(
    config: SimulationConfig,
    rng: np.random.Generator,
    grid: NDArray[np.float64],
    masks: dict[str, NDArray[np.bool_]],
    info: mne.Info,
    proj: NDArray[np.float64],
    whitener: NDArray[np.float64],
    norm: float,
    n_classes: int,
) -> InducedModel:
    """Draw the induced code of a subject from its own stream ``rng``.

    Each class gets random moments of ``n_class_sources`` occipito-temporal
    dipoles (its localizer topography) and of as many non-visual dipoles (the
    non-visual part of its imagery topography), each topography scaled to a
    noise-whitened norm of ``norm``; the peak frequency is drawn in
    ``induced_peak_range_hz``.
    """
    k = config.n_class_sources
    rr = np.concatenate(
        [_pick(rng, grid, masks["ot"], k, "ot"), _pick(rng, grid, masks["nonvisual"], k, "nonvisual")]
    )
    nn = sensors.tangential_orientations(rr, rng)
    gain = proj @ sensors.dipole_gain(info, rr, nn)
    visual = (gain[:, :k] @ rng.standard_normal((k, n_classes))).T
    nonvisual = (gain[:, k:] @ rng.standard_normal((k, n_classes))).T
    for patterns in (visual, nonvisual):
        patterns *= norm / np.linalg.norm(patterns @ whitener.T, axis=1, keepdims=True)
    weight = config.alpha if config.induced_alpha is None else config.induced_alpha
    return InducedModel(
        localizer_patterns=visual,
        imagery_patterns=weight * visual + (1 - weight) * nonvisual,
        nonvisual_patterns=nonvisual,
        peak_hz=float(rng.uniform(*config.induced_peak_range_hz)),
        bandwidth_hz=float(config.induced_bandwidth_hz),
    )
