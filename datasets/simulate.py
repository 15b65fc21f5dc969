"""Write a realistic simulated IMAGINE dataset in the official challenge layout.

The simulated study mimics the IMAGINE decoding challenge (MEG, MEGIN TRIUX,
tSSS-processed, epochs decimated to 100 Hz): each subject sees pictures of
ten items in a *localizer* block and, in an *imagine* block, hears the
item's name and imagines the item with eyes closed.

Physics and physiology (per subject, all drawn from the seed):

- **Sensors and head.** The 306 MEG channels of a TRIUX with their real coil
  geometry, plus ``ECG``, ``HEOG`` and ``VEOG``. The head sits at the MNE
  sample subject's position, moved by a small random rotation and
  translation per subject.
- **Forward model.** Current dipoles with tangential orientations in a
  spherical conductor (``mne.make_sphere_model``), placed on a grid in
  anatomically plausible regions of the sphere: early visual (V1),
  ventral occipito-temporal (class-specific visual code), elsewhere
  (class-specific non-visual imagery code), auditory cortices,
  parieto-occipital alpha generators, and frontal / deep sources standing
  for the eyes and the heart. Each subject has its own class sources, so
  class patterns do not align across subjects.
- **Localizer** (``-0.2 .. 1.0 s``): an early visual response common to all
  classes (~100 ms) plus a class-specific occipito-temporal response peaking
  at a subject-specific latency in 150-250 ms, with trial-to-trial
  amplitude and latency jitter.
- **Imagine** (``-0.2 .. 5.0 s``): an auditory response to the spoken word
  (100-500 ms) common to all classes, then, from a random onset 0.3-1.5 s
  after the word, a long, weak imagery response whose sensor pattern is
  ``alpha * visual pattern + (1 - alpha) * non-visual pattern`` of the class.
- **Noise**: 1/f sensor noise with the spatial covariance of a real
  recording, alpha rhythm (strong with eyes closed during imagery), heart
  beats and blinks / saccades on the bio channels leaking into the MEG.
  All MEG signals are projected onto the internal SSS basis (order 8), which
  leaves the data with rank ~70, like real tSSS data.

Regimes (``imagery_timing``, ``sss_projection``, ``weak_subject_period``;
named presets in :mod:`datasets.regimes`) change when imagery happens (one
sustained plateau, one brief burst, several reactivations, a late plateau),
whether the data are SSS-projected or full rank, and whether a few subjects
carry almost no signal. Their default values reproduce the data above byte
for byte.

The ground truth (labels of the test imagine trials, sensor patterns, onset
latencies, every parameter) is written outside the dataset root; each
imagine trial's true imagery interval(s) are in ``imagine_intervals``.

Calibration of the defaults (16 subjects, seed 0; shrinkage LDA on the
z-scored MEG channels at the best single localizer time point, 5-fold CV):
localizer accuracy 0.38 on average (0.20-0.60 across subjects); the same
LDA, trained on the whole localizer and applied to the imagine epochs
(log-probabilities averaged over 0.3-3.5 s), scores 0.10 at ``alpha=0``,
0.12 at ``alpha=0.25`` and 0.28 at ``alpha=1`` (620 imagine trials pooled;
chance 0.10). ``python -m datasets._calibrate`` re-measures these.

Examples
--------
>>> from pathlib import Path
>>> from datasets.simulate import SimulationConfig, simulate_dataset
>>> truth = simulate_dataset(Path("sim"), SimulationConfig(n_train=2, n_test=1))
... # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from . import _sensors, _signals, layout

logger = logging.getLogger(__name__)

#: Version of the simulation model; bump it when the generated data change.
SIMULATOR_VERSION = "1.0.0"

#: Subjects of the real study, in the order a smaller config takes them.
TRAIN_SUBJECTS: tuple[str, ...] = tuple(
    f"sub-{n:02d}" for n in (2, 5, 6, 7, 10, 13, 14, 15, 17, 18, 25, 28, 29, 30, 31)
)
TEST_SUBJECTS: tuple[str, ...] = tuple(
    f"sub-{n:02d}" for n in (1, 3, 4, 9, 11, 12, 16, 19, 21, 22, 23, 24, 26, 27)
)

#: Epoch windows (s) of the two blocks.
LOCALIZER_WINDOW: tuple[float, float] = (-0.2, 1.0)
IMAGINE_WINDOW: tuple[float, float] = (-0.2, 5.0)

#: Event sample numbers of the (shuffled) imagine epochs: 100, 300, 500, ...
IMAGINE_FIRST_SAMPLE = 100
IMAGINE_SAMPLE_STEP = 200

#: Name of the solution file, ground-truth metadata and pattern folder.
SOLUTION_FILE = "solution.csv"
METADATA_FILE = "simulation.json"
PATTERNS_DIR = "patterns"

_NAM = 1e-9  # nA m -> A m
_FT = 1e-15  # fT -> T
_UV = 1e-6  # uV -> V
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


#: Fields of SimulationConfig that hold a (lo, hi) pair.
_PAIR_FIELDS = frozenset(
    {
        "n_imagine_per_class",
        "class_peak_range_s",
        "class_width_range_s",
        "imagery_onset_range_s",
        "imagery_duration_range_s",
        "blink_rate_hz",
        "burst_duration_range_s",
        "burst_onset_range_s",
        "n_reactivations",
        "reactivation_range_s",
        "late_onset_range_s",
        "induced_peak_range_hz",
        "induced_window_s",
    }
)

#: Time courses of imagery (``SimulationConfig.imagery_timing``), see :func:`_imagery_shapes`.
IMAGERY_TIMINGS: tuple[str, ...] = ("sustained", "brief", "reactivations", "late")

#: Rise and fall (s) of a brief imagery burst (``brief`` and ``reactivations``).
BURST_EDGE_S = 0.1

#: Fields added after simulator 1.0.0, with the value that reproduces 1.0.0's
#: data exactly. ``datasets.default`` leaves them out of its cache key while
#: they hold these values, so earlier datasets keep their cache folders.
REGIME_FIELD_DEFAULTS: dict[str, Any] = {
    "imagery_timing": "sustained",
    "burst_duration_range_s": (0.3, 0.8),
    "burst_onset_range_s": (0.3, 3.0),
    "n_reactivations": (2, 4),
    "reactivation_range_s": (0.3, 4.2),
    "late_onset_range_s": (2.0, 4.0),
    "sss_projection": True,
    "sensor_noise_ratio": 0.5,
    "weak_subject_period": 0,
    "weak_subject_gain": 0.1,
    "evoked_gain": 1.0,
    "induced_separation": 0.0,
    "induced_alpha": None,
    "induced_peak_range_hz": (8.0, 25.0),
    "induced_bandwidth_hz": 1.5,
    "induced_window_s": (0.1, 0.7),
}


@dataclass(frozen=True)
class SimulationConfig:
    """Every parameter of a simulated dataset.

    Parameters
    ----------
    n_train, n_test : int
        Number of train and test subjects; the first ones of the real study's
        lists (at most 15 and 14).
    n_localizer_per_class : int
        Localizer epochs per class (48 in the real study).
    n_imagine_per_class : tuple of int
        Inclusive range of imagine epochs per class, drawn once per subject.
    alpha : float
        Imagery transfer weight in [0, 1]: share of the class's visual
        (localizer) pattern in its imagery pattern.
    snr : float
        Scales the class-specific signals (localizer and imagery) relative to
        noise.
    imagine_baseline : bool
        Baseline-correct the imagine epochs on (None, 0), as the organisers'
        files are; False leaves them uncorrected (``epochs.baseline`` None).
    seed : int
        Seed of everything; a subject's data depend only on the seed, its ID
        and the other parameters, not on how many subjects are simulated.
    n_class_sources : int
        Dipoles of each subject's occipito-temporal class code (and of the
        non-visual imagery code).
    visual_amplitude_nam : float
        Peak moment (nA m) of each of the two early visual dipoles.
    class_separation : float
        At ``snr=1`` and a subject gain of 1: RMS distance of the class
        patterns from their mean at the peak of the class response, in units
        of the (SSS-projected, real) sensor noise, after whitening. The
        dipole moments follow from it (``class_moment_sd_nam`` in the truth
        metadata).
    common_ot_amplitude_nam : float
        Standard deviation (nA m) of the occipito-temporal response common
        to all classes.
    subject_gain_sd : float
        Standard deviation of the log of a per-subject gain of the class
        signals (differences in decodability between subjects).
    class_peak_range_s : tuple of float
        Range of the per-subject peak latency of the class response (s).
    class_width_range_s : tuple of float
        Range of its per-subject width (Gaussian SD, s).
    latency_jitter_s : float
        Trial-to-trial latency jitter (SD, s) of the localizer responses.
    amplitude_jitter : float
        Trial-to-trial amplitude jitter (SD of the log amplitude).
    auditory_amplitude_nam : float
        Peak moment (nA m) of the two auditory dipoles (word response).
    imagery_gain : float
        Amplitude of the imagery response relative to the class-specific
        localizer response.
    imagery_onset_range_s : tuple of float
        Range of imagery onsets after word onset (s); each subject's mean
        onset is drawn in it and each trial's onset is clipped to it.
    imagery_onset_jitter_s : float
        Trial-to-trial SD of the imagery onset around the subject's mean (s).
    imagery_duration_range_s : tuple of float
        Range of the duration of the imagery plateau (s).
    noise_scale : float
        Scales the sensor noise (whose covariance is the real one).
    noise_exponent : float
        Exponent of the 1/f power spectrum of the sensor noise.
    alpha_amplitude_nam : float
        RMS moment (nA m) of each alpha generator with eyes open.
    eyes_closed_alpha_gain : float
        Alpha amplitude during imagery (eyes closed) relative to eyes open.
    heart_leak_ft : float
        Peak cardiac artefact on the magnetometers (fT).
    blink_leak_ft : float
        Peak blink artefact on the magnetometers (fT).
    blink_rate_hz : tuple of float
        Blink rate (per s) with eyes open and closed.
    head_rotation_deg : float
        SD of each head rotation angle across subjects (degrees).
    head_translation_mm : float
        SD of each head translation component across subjects (mm).
    sss_int_order : int
        Internal order of the SSS basis the MEG data are projected onto.
    imagery_timing : {"sustained", "brief", "reactivations", "late"}
        Time course of imagery in each imagine trial. ``"sustained"``: one
        plateau of ``imagery_duration_range_s`` from an onset near the
        subject's mean (``imagery_onset_range_s``, jittered), with slow edges
        (0.3 s rise, 0.5 s fall). ``"brief"``: one burst of
        ``burst_duration_range_s`` at an onset drawn uniformly in
        ``burst_onset_range_s``. ``"reactivations"``: ``n_reactivations``
        such bursts at onsets drawn uniformly in ``reactivation_range_s``.
        ``"late"``: a sustained plateau starting uniformly in
        ``late_onset_range_s`` (cut at the end of the epoch).
    burst_duration_range_s : tuple of float
        Range of the duration (s) of a brief burst, edges included
        (``BURST_EDGE_S`` rise and fall).
    burst_onset_range_s : tuple of float
        Range of the onset (s) of the single burst of ``"brief"`` imagery.
    n_reactivations : tuple of int
        Inclusive range of the number of bursts per trial of ``"reactivations"``.
    reactivation_range_s : tuple of float
        Range of the burst onsets (s) of ``"reactivations"``.
    late_onset_range_s : tuple of float
        Range of the onset (s) of ``"late"`` imagery.
    sss_projection : bool
        Project the MEG signals and noise onto the internal SSS basis (rank
        ~70, like tSSS data). False keeps the full 306-channel fields and the
        real (unprojected) noise covariance, plus independent sensor noise
        (``sensor_noise_ratio``): full-rank data.
    sensor_noise_ratio : float
        Without SSS projection only: SD of the independent noise of each
        sensor, relative to the median noise SD of its sensor type.
    weak_subject_period : int
        Every ``weak_subject_period``-th subject of the study's subject order
        (train list, then test list; e.g. 3: sub-06, sub-13, ...) has its
        class signals scaled by ``weak_subject_gain``; 0: none. Depends only
        on the subject ID, never on how many subjects are simulated.
    weak_subject_gain : float
        Scale of the class signals (localizer and imagery) of weak subjects.
    evoked_gain : float
        Scale of the class-specific *evoked* (phase-locked) signals, localizer
        and imagery; 0 leaves only the induced code (if any). 1 (default)
        draws exactly what simulator 1.0.0 drew.
    induced_separation : float
        Class-specific *induced* (oscillatory) activity: at ``snr=1`` and a
        subject gain of 1, the RMS noise-whitened norm of each class's
        induced sensor topography (a sensor-space amplitude, like
        ``class_separation``) multiplying a narrow-band oscillation of unit
        variance whose phase is random on every trial. 0 (default): no
        induced activity, and none of its random numbers are drawn. Its
        random numbers come from a stream of their own, so switching it on
        leaves every other draw (anatomy, labels, timing, noise) unchanged.
    induced_alpha : float or None
        Transfer weight of the induced code: share of the class's localizer
        induced topography in its imagery induced topography (the rest is a
        non-visual one); None: ``alpha``.
    induced_peak_range_hz : tuple of float
        Range of the per-subject peak frequency (Hz) of the induced
        oscillation (alpha to beta), drawn once per subject.
    induced_bandwidth_hz : float
        Gaussian SD (Hz) of the oscillation's amplitude spectrum.
    induced_window_s : tuple of float
        Localizer interval (s, after the picture) of the induced plateau
        (0.1 s rise, 0.15 s fall); in imagery the induced activity follows
        each trial's imagery time course and amplitude.
    """

    n_train: int = 15
    n_test: int = 3
    n_localizer_per_class: int = 48
    n_imagine_per_class: tuple[int, int] = (3, 5)
    alpha: float = 0.25
    snr: float = 1.0
    imagine_baseline: bool = True
    seed: int = 0
    n_class_sources: int = 10
    visual_amplitude_nam: float = 30.0
    class_separation: float = 2.4
    common_ot_amplitude_nam: float = 10.0
    subject_gain_sd: float = 0.25
    class_peak_range_s: tuple[float, float] = (0.15, 0.25)
    class_width_range_s: tuple[float, float] = (0.035, 0.06)
    latency_jitter_s: float = 0.015
    amplitude_jitter: float = 0.3
    auditory_amplitude_nam: float = 40.0
    imagery_gain: float = 0.9
    imagery_onset_range_s: tuple[float, float] = (0.3, 1.5)
    imagery_onset_jitter_s: float = 0.25
    imagery_duration_range_s: tuple[float, float] = (1.0, 2.5)
    noise_scale: float = 1.0
    noise_exponent: float = 1.0
    alpha_amplitude_nam: float = 10.0
    eyes_closed_alpha_gain: float = 2.0
    heart_leak_ft: float = 400.0
    blink_leak_ft: float = 1500.0
    blink_rate_hz: tuple[float, float] = (0.25, 0.05)
    head_rotation_deg: float = 3.0
    head_translation_mm: float = 4.0
    sss_int_order: int = 8
    imagery_timing: str = "sustained"
    burst_duration_range_s: tuple[float, float] = (0.3, 0.8)
    burst_onset_range_s: tuple[float, float] = (0.3, 3.0)
    n_reactivations: tuple[int, int] = (2, 4)
    reactivation_range_s: tuple[float, float] = (0.3, 4.2)
    late_onset_range_s: tuple[float, float] = (2.0, 4.0)
    sss_projection: bool = True
    sensor_noise_ratio: float = 0.5
    weak_subject_period: int = 0
    weak_subject_gain: float = 0.1
    evoked_gain: float = 1.0
    induced_separation: float = 0.0
    induced_alpha: float | None = None
    induced_peak_range_hz: tuple[float, float] = (8.0, 25.0)
    induced_bandwidth_hz: float = 1.5
    induced_window_s: tuple[float, float] = (0.1, 0.7)

    def __post_init__(self) -> None:
        """Validate the parameters (raise ValueError, naming the field)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):  # e.g. read from TOML / JSON
                object.__setattr__(self, f.name, tuple(value))
            if f.name in _PAIR_FIELDS and (not isinstance(value, tuple | list) or len(value) != 2):
                raise ValueError(f"{f.name} must be a pair (lo, hi), got {value!r}")
        if not 0 <= self.n_train <= len(TRAIN_SUBJECTS):
            raise ValueError(f"n_train must be in 0..{len(TRAIN_SUBJECTS)}, got {self.n_train}")
        if not 0 <= self.n_test <= len(TEST_SUBJECTS):
            raise ValueError(f"n_test must be in 0..{len(TEST_SUBJECTS)}, got {self.n_test}")
        if self.n_train + self.n_test == 0:
            raise ValueError("n_train + n_test must be at least 1, got 0")
        if self.n_localizer_per_class < 1:
            raise ValueError(f"n_localizer_per_class must be >= 1, got {self.n_localizer_per_class}")
        lo, hi = self.n_imagine_per_class
        if not 1 <= lo <= hi:
            raise ValueError(
                f"n_imagine_per_class must be (lo, hi) with 1 <= lo <= hi, got {self.n_imagine_per_class}"
            )
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        for name in (
            "snr",
            "class_separation",
            "imagery_gain",
            "noise_scale",
            "visual_amplitude_nam",
            "common_ot_amplitude_nam",
            "auditory_amplitude_nam",
            "alpha_amplitude_nam",
            "eyes_closed_alpha_gain",
            "heart_leak_ft",
            "blink_leak_ft",
            "subject_gain_sd",
            "latency_jitter_s",
            "amplitude_jitter",
            "imagery_onset_jitter_s",
            "head_rotation_deg",
            "head_translation_mm",
            "sensor_noise_ratio",
            "weak_subject_gain",
            "evoked_gain",
            "induced_separation",
        ):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in (
            "class_peak_range_s",
            "class_width_range_s",
            "imagery_onset_range_s",
            "imagery_duration_range_s",
            "burst_duration_range_s",
            "burst_onset_range_s",
            "reactivation_range_s",
            "late_onset_range_s",
        ):
            lo_v, hi_v = getattr(self, name)
            if not 0 < lo_v <= hi_v:
                raise ValueError(f"{name} must be (lo, hi) with 0 < lo <= hi, got {(lo_v, hi_v)}")
        if min(self.blink_rate_hz) < 0:
            raise ValueError(f"blink_rate_hz must be >= 0, got {self.blink_rate_hz}")
        onset_hi = self.imagery_onset_range_s[1]
        if onset_hi >= IMAGINE_WINDOW[1]:
            raise ValueError(f"imagery_onset_range_s must end before {IMAGINE_WINDOW[1]} s, got {onset_hi}")
        for name in ("burst_onset_range_s", "reactivation_range_s", "late_onset_range_s"):
            if getattr(self, name)[1] >= IMAGINE_WINDOW[1]:
                raise ValueError(f"{name} must end before {IMAGINE_WINDOW[1]} s, got {getattr(self, name)}")
        if self.imagery_timing not in IMAGERY_TIMINGS:
            allowed = ", ".join(repr(t) for t in IMAGERY_TIMINGS)
            raise ValueError(f"imagery_timing: allowed values are {allowed}, but got {self.imagery_timing!r}")
        if self.burst_duration_range_s[0] < 2 * BURST_EDGE_S:
            raise ValueError(
                f"burst_duration_range_s must start at >= {2 * BURST_EDGE_S} s (rise + fall), "
                f"got {self.burst_duration_range_s}"
            )
        lo_r, hi_r = self.n_reactivations
        if not 1 <= lo_r <= hi_r:
            raise ValueError(
                f"n_reactivations must be (lo, hi) with 1 <= lo <= hi, got {self.n_reactivations}"
            )
        if not isinstance(self.weak_subject_period, int | np.integer) or self.weak_subject_period < 0:
            raise ValueError(f"weak_subject_period must be an int >= 0, got {self.weak_subject_period!r}")
        if not isinstance(self.sss_projection, bool | np.bool_):
            raise ValueError(f"sss_projection must be True or False, got {self.sss_projection!r}")
        if self.induced_alpha is not None and not 0.0 <= self.induced_alpha <= 1.0:
            raise ValueError(f"induced_alpha must be None or in [0, 1], got {self.induced_alpha}")
        lo_f, hi_f = self.induced_peak_range_hz
        if not 1.0 <= lo_f <= hi_f < _sensors.LOWPASS:
            raise ValueError(
                f"induced_peak_range_hz must be (lo, hi) with 1 <= lo <= hi < {_sensors.LOWPASS} Hz, "
                f"got {self.induced_peak_range_hz}"
            )
        if not 0.0 < self.induced_bandwidth_hz <= 10.0:
            raise ValueError(f"induced_bandwidth_hz must be in (0, 10] Hz, got {self.induced_bandwidth_hz}")
        lo_w, hi_w = self.induced_window_s
        if not 0.0 <= lo_w < hi_w <= LOCALIZER_WINDOW[1]:
            raise ValueError(
                f"induced_window_s must be (lo, hi) with 0 <= lo < hi <= {LOCALIZER_WINDOW[1]} s, "
                f"got {self.induced_window_s}"
            )
        if self.n_class_sources < 1:
            raise ValueError(f"n_class_sources must be >= 1, got {self.n_class_sources}")
        if self.sss_int_order < 1:
            raise ValueError(f"sss_int_order must be >= 1, got {self.sss_int_order}")
        if self.noise_exponent < 0:
            raise ValueError(f"noise_exponent must be >= 0, got {self.noise_exponent}")
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")

    @classmethod
    def full(cls, **overrides: Any) -> SimulationConfig:
        """Return the full-size configuration: 15 train and 14 test subjects.

        Parameters
        ----------
        **overrides
            Any other field of :class:`SimulationConfig`.
        """
        params: dict[str, Any] = {"n_train": len(TRAIN_SUBJECTS), "n_test": len(TEST_SUBJECTS)}
        params.update(overrides)
        return cls(**params)

    @property
    def train_subjects(self) -> tuple[str, ...]:
        """Train subject IDs of this configuration."""
        return TRAIN_SUBJECTS[: self.n_train]

    @property
    def test_subjects(self) -> tuple[str, ...]:
        """Test subject IDs of this configuration."""
        return TEST_SUBJECTS[: self.n_test]


def default_truth_dir(root: Path) -> Path:
    """Return the default ground-truth folder: sibling ``<root name>-truth``.

    Parameters
    ----------
    root : Path
        Dataset root.

    Returns
    -------
    truth_dir : Path
    """
    root = Path(root)
    if not root.name:  # "." or "/": name the folder after the resolved path
        root = root.resolve()
    return root.parent / f"{root.name}-truth"


# --------------------------------------------------------------------------
# One subject
# --------------------------------------------------------------------------


@dataclass
class _Block:
    """Simulated epochs of one block, before writing."""

    data: NDArray[np.float64]
    labels: NDArray[np.int64]  # class index 0..9 per epoch
    samples: NDArray[np.int64]  # event sample numbers
    tmin: float


@dataclass
class _Subject:
    """Everything simulated for one subject."""

    subject: str
    info: mne.Info
    localizer: _Block
    imagine: _Block
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


def _subject_streams(seed: int, subject: str) -> dict[str, np.random.Generator]:
    number = int(subject.split("-")[1])
    root = np.random.SeedSequence(entropy=seed, spawn_key=(number,))
    return {
        name: np.random.default_rng(child)
        for name, child in zip(_STREAMS, root.spawn(len(_STREAMS)), strict=True)
    }


def _region_masks(rr: NDArray[np.float64]) -> dict[str, NDArray[np.bool_]]:
    """Boolean masks of anatomically plausible regions on the source grid."""
    x, y, z = (rr - np.asarray(_sensors.SPHERE_ORIGIN)).T
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
    sd = np.sqrt(np.diag(_sensors.noise_covariance()))
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
class _InducedModel:
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
class _SubjectModel:
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
    induced: _InducedModel | None = None

    def class_course(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Time course of the class-specific localizer response (peak ~1)."""
        return _signals.gaussian_bump(t, self.class_peak, self.class_width) + 0.35 * _signals.gaussian_bump(
            t, self.class_peak + 0.2, 0.12
        )


def _subject_model(
    subject: str,
    config: SimulationConfig,
    rng: np.random.Generator,
    induced_rng: np.random.Generator | None = None,
) -> _SubjectModel:
    """Draw the head position, sources, sensor patterns and physiology of a subject.

    ``induced_rng`` (the subject's own ``"induced"`` stream) draws the
    induced code when ``config.induced_separation > 0``; ``rng`` never does.
    """
    n_classes = len(layout.CLASS_NAMES)
    jitter = _sensors.random_rigid_transform(rng, config.head_rotation_deg, config.head_translation_mm * 1e-3)
    number = int(subject.split("-")[1])
    head = _sensors.subject_head_model(jitter, config.sss_int_order, meas_date_days=7 * number)
    info = head.info
    n_meg = len(head.meg_idx)
    if not np.array_equal(head.meg_idx, np.arange(head.meg_idx[0], head.meg_idx[0] + n_meg)):
        raise ValueError("The simulator's info must hold its MEG channels contiguously.")
    mag_idx = mne.pick_types(mne.pick_info(info, head.meg_idx), meg="mag")

    # Sources on anatomically plausible parts of the grid; forward model.
    grid = _sensors.source_grid()
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
    nn = _sensors.tangential_orientations(rr, rng)
    # The projector of the data: SSS (rank ~70) or none (full-rank sensors).
    proj = head.sss if config.sss_projection else np.eye(n_meg)
    gain = proj @ _sensors.dipole_gain(info, rr, nn)
    bounds = np.cumsum([0] + [len(v) for v in groups.values()])
    # SSS-projected fields of unit dipoles, (n_meg, n_sources_in_group).
    g = {name: gain[:, bounds[i] : bounds[i + 1]] for i, name in enumerate(groups)}

    noise_cov = _sensors.noise_covariance()
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
    common_ot = g["ot"] @ rng.standard_normal(k) * config.common_ot_amplitude_nam * _NAM
    noise_mix = base_mix * config.noise_scale * float(np.exp(rng.normal(0.0, 0.15)))

    onset_lo, onset_hi = config.imagery_onset_range_s
    params = {
        "class_peak": float(rng.uniform(*config.class_peak_range_s)),
        "class_width": float(rng.uniform(*config.class_width_range_s)),
        "alpha_freq": float(rng.uniform(9.0, 11.5)),
        "heart_period": float(rng.uniform(0.75, 1.1)),
        "ecg_amp": float(rng.uniform(0.5, 1.5)) * 1e-3,
        "blink_amp": float(rng.uniform(100.0, 300.0)) * _UV,
        "saccade_amp": float(rng.uniform(20.0, 60.0)) * _UV,
        "onset_mean": float(rng.uniform(onset_lo, onset_lo + 0.6 * (onset_hi - onset_lo))),
        "n_imagine_per_class": int(
            rng.integers(config.n_imagine_per_class[0], config.n_imagine_per_class[1] + 1)
        ),
    }
    metadata = {
        "n_imagine_per_class": params["n_imagine_per_class"],
        "subject_gain": subject_gain,
        "class_moment_sd_nam": target / spread / _NAM,
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
        induced = _induced_model(
            config, induced_rng, grid, masks, info, proj, whitener, gain_scale, n_classes
        )
        metadata["induced_peak_hz"] = induced.peak_hz
    start = int(head.meg_idx[0])
    return _SubjectModel(
        subject=subject,
        info=info,
        meg=slice(start, start + n_meg),
        visual_patterns=visual,
        nonvisual_patterns=nonvisual,
        imagery_patterns=config.alpha * visual + (1 - config.alpha) * nonvisual,
        common_ot=common_ot,
        v1_patterns=g["v1"] * config.visual_amplitude_nam * _NAM,
        aud_patterns=g["auditory"] * config.auditory_amplitude_nam * _NAM,
        alpha_patterns=g["alpha"] * config.alpha_amplitude_nam * _NAM,
        heart_pattern=_scale_to_peak_mag(g["heart"][:, 0], mag_idx, config.heart_leak_ft * _FT),
        blink_pattern=_scale_to_peak_mag(g["eyes"][:, 0], mag_idx, config.blink_leak_ft * _FT),
        saccade_pattern=_scale_to_peak_mag(g["eyes"][:, 1], mag_idx, 0.3 * config.blink_leak_ft * _FT),
        noise_mix=noise_mix,
        metadata=metadata,
        induced=induced,
        **params,
    )


def _induced_model(
    config: SimulationConfig,
    rng: np.random.Generator,
    grid: NDArray[np.float64],
    masks: dict[str, NDArray[np.bool_]],
    info: mne.Info,
    proj: NDArray[np.float64],
    whitener: NDArray[np.float64],
    norm: float,
    n_classes: int,
) -> _InducedModel:
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
    nn = _sensors.tangential_orientations(rr, rng)
    gain = proj @ _sensors.dipole_gain(info, rr, nn)
    visual = (gain[:, :k] @ rng.standard_normal((k, n_classes))).T
    nonvisual = (gain[:, k:] @ rng.standard_normal((k, n_classes))).T
    for patterns in (visual, nonvisual):
        patterns *= norm / np.linalg.norm(patterns @ whitener.T, axis=1, keepdims=True)
    weight = config.alpha if config.induced_alpha is None else config.induced_alpha
    return _InducedModel(
        localizer_patterns=visual,
        imagery_patterns=weight * visual + (1 - weight) * nonvisual,
        nonvisual_patterns=nonvisual,
        peak_hz=float(rng.uniform(*config.induced_peak_range_hz)),
        bandwidth_hz=float(config.induced_bandwidth_hz),
    )


def _add_induced(
    meg: NDArray[np.float64],
    patterns: NDArray[np.float64],
    envelopes: NDArray[np.float64],
    induced: _InducedModel,
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
    spectrum = _signals.alpha_spectrum(induced.peak_hz, induced.bandwidth_hz)
    oscillations = _signals.shaped_noise(rng, (n,), n_t, _sensors.SFREQ, spectrum)
    meg += patterns[:, :, None] * (oscillations * envelopes)[:, None, :]
    return oscillations


def _background(
    model: _SubjectModel,
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
    sfreq = _sensors.SFREQ
    n_t = len(times)
    info = model.info
    meg_spec = _signals.pink_spectrum(
        config.noise_exponent, knee=0.5, white_floor=0.02, lowpass=_sensors.LOWPASS
    )
    eog_spec = _signals.pink_spectrum(1.5, knee=0.3, white_floor=0.01, lowpass=20.0)
    data = np.empty((n, len(info.ch_names), n_t))
    latent = _signals.shaped_noise(rng, (n, model.noise_mix.shape[1]), n_t, sfreq, meg_spec)
    np.matmul(model.noise_mix, latent, out=data[:, model.meg])
    del latent
    alpha_src = _signals.shaped_noise(
        rng, (n, model.alpha_patterns.shape[1]), n_t, sfreq, _signals.alpha_spectrum(model.alpha_freq, 1.0)
    )
    alpha_env = 0.5 + rng.gamma(2.0, 0.5, (n, 1, 1))  # waxing and waning across trials
    data[:, model.meg] += np.matmul(model.alpha_patterns * alpha_gain, alpha_src * alpha_env)
    ecg = _signals.event_train(
        rng, times, n, _signals.heartbeat_onsets(model.heart_period, 0.05), _signals.ecg_template
    )
    blinks = _signals.event_train(rng, times, n, _signals.poisson_onsets(blink_rate), _signals.blink_template)
    saccades = _signals.event_train(
        rng,
        times,
        n,
        _signals.poisson_onsets(0.3),
        _signals.saccade_template,
        amplitude=lambda r, m: r.choice([-1.0, 1.0], m) * r.uniform(0.5, 1.0, m),
    )
    leak = np.stack([model.heart_pattern, model.blink_pattern, model.saccade_pattern], axis=1)
    data[:, model.meg] += np.matmul(leak, np.stack([ecg, blinks, saccades], axis=1))
    bio = {name: info.ch_names.index(name) for name in layout.BIO_CHANNELS}
    eog_noise = _signals.shaped_noise(rng, (n, 2), n_t, sfreq, eog_spec) * 10 * _UV
    data[:, bio["ECG"]] = ecg * model.ecg_amp + rng.standard_normal((n, n_t)) * 15 * _UV
    data[:, bio["VEOG"]] = blinks * model.blink_amp + 0.1 * saccades * model.saccade_amp + eog_noise[:, 0]
    data[:, bio["HEOG"]] = saccades * model.saccade_amp + 0.05 * blinks * model.blink_amp + eog_noise[:, 1]
    return data


def _localizer_block(
    model: _SubjectModel, config: SimulationConfig, design: np.random.Generator, noise: np.random.Generator
) -> tuple[_Block, dict[str, NDArray[np.float64]]]:
    """Simulate the localizer: early visual + class-specific responses on the background.

    Returns
    -------
    block : _Block
    jitter : dict
        Per-trial latency ``shifts`` (s) and ``amplitudes`` of the responses.
    """
    n_classes = len(layout.CLASS_NAMES)
    n = config.n_localizer_per_class * n_classes
    times = _epoch_times(*LOCALIZER_WINDOW, _sensors.SFREQ)
    labels = design.permutation(np.repeat(np.arange(n_classes), config.n_localizer_per_class))
    shift = design.normal(0.0, config.latency_jitter_s, (n, 1))
    amp = np.exp(design.normal(0.0, config.amplitude_jitter, (n, 1)))
    samples = _localizer_samples(design, n, _sensors.SFREQ)
    data = _background(model, config, noise, n, times, 1.0, config.blink_rate_hz[0])
    t_shift = times[None, :] - shift
    v1_course = np.stack(
        [
            _signals.gaussian_bump(t_shift, 0.095 + 0.01 * j, 0.02)
            - 0.6 * _signals.gaussian_bump(t_shift, 0.17 + 0.01 * j, 0.035)
            for j in range(model.v1_patterns.shape[1])
        ],
        axis=1,
    )  # (n, 2, n_times)
    class_tc = model.class_course(t_shift) * amp  # (n, n_times)
    meg = data[:, model.meg]
    meg += np.matmul(model.v1_patterns, v1_course * amp[:, :, None])
    meg += (model.visual_patterns[labels] + model.common_ot)[:, :, None] * class_tc[:, None, :]
    block = _Block(data, labels, samples, LOCALIZER_WINDOW[0])
    return block, {"shifts": shift[:, 0], "amplitudes": amp[:, 0]}


def _imagine_block(
    model: _SubjectModel, config: SimulationConfig, design: np.random.Generator, noise: np.random.Generator
) -> tuple[_Block, dict[str, NDArray[np.float64]]]:
    """Simulate the imagine block: word response + delayed, long imagery responses.

    Returns
    -------
    block : _Block
    timing : dict
        ``onsets`` and ``durations`` (s) of the imagery plateau per trial and
        its ``envelopes`` ``(n, n_times)`` (amplitude of the class pattern).
    """
    n_classes = len(layout.CLASS_NAMES)
    n = model.n_imagine_per_class * n_classes
    times = _epoch_times(*IMAGINE_WINDOW, _sensors.SFREQ)
    labels = design.permutation(np.repeat(np.arange(n_classes), model.n_imagine_per_class))
    shift = design.normal(0.0, config.latency_jitter_s, (n, 1))
    amp = np.exp(design.normal(0.0, config.amplitude_jitter, (n, 1)))
    t_shift = times[None, :] - shift
    aud_course = (
        _signals.gaussian_bump(t_shift, 0.1, 0.025) + 0.4 * _signals.smooth_box(t_shift, 0.15, 0.5, 0.05, 0.1)
    ) * amp
    onsets, durations, shapes = _imagery_shapes(model, config, design, times, n)
    img_amp = config.imagery_gain * np.exp(design.normal(0.0, config.amplitude_jitter, n))
    data = _background(model, config, noise, n, times, config.eyes_closed_alpha_gain, config.blink_rate_hz[1])
    envelopes = shapes * img_amp[:, None]
    meg = data[:, model.meg]
    meg += model.aud_patterns.sum(axis=1)[None, :, None] * aud_course[:, None, :]
    meg += model.imagery_patterns[labels][:, :, None] * envelopes[:, None, :]
    samples = IMAGINE_FIRST_SAMPLE + IMAGINE_SAMPLE_STEP * np.arange(n)
    block = _Block(data, labels, samples, IMAGINE_WINDOW[0])
    return block, {
        "onsets": onsets,
        "durations": durations,
        "envelopes": envelopes,
        "intervals": half_max_intervals(shapes, times),
    }


def _imagery_shapes(
    model: _SubjectModel,
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
            _signals.smooth_box(t, onsets[:, None], (onsets + durations)[:, None], 0.3, 0.5),
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
    return _signals.smooth_box(t, onset, onset + duration - BURST_EDGE_S, BURST_EDGE_S, BURST_EDGE_S)


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


def _simulate_subject(subject: str, config: SimulationConfig) -> _Subject:
    """Simulate both blocks of one subject, with their ground truth."""
    streams = _subject_streams(config.seed, subject)
    model = _subject_model(subject, config, streams["subject"], streams["induced"])
    localizer, loc_jitter = _localizer_block(
        model, config, streams["localizer_design"], streams["localizer_noise"]
    )
    imagine, timing = _imagine_block(model, config, streams["imagine_design"], streams["imagine_noise"])
    names = np.array(layout.CLASS_NAMES)
    loc_times = _epoch_times(*LOCALIZER_WINDOW, _sensors.SFREQ)
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
        "imagine_times": _epoch_times(*IMAGINE_WINDOW, _sensors.SFREQ),
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
    return _Subject(subject, model.info, localizer, imagine, truth, metadata)


def _induced_blocks(
    model: _SubjectModel,
    config: SimulationConfig,
    localizer: _Block,
    imagine: _Block,
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
    course = _signals.smooth_box(loc_times, lo, hi, 0.1, 0.15)
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


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _write_epochs(
    path: Path,
    info: mne.Info,
    block: _Block,
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
    _sensors.zero_fif_machine_ids(path)


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


def _write_subject(sim: _Subject, split: str, root: Path, config: SimulationConfig) -> list[dict]:
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


def simulate_dataset(root: Path, config: SimulationConfig, truth_dir: Path | None = None) -> Path:
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
    for split, subjects in (("train", config.train_subjects), ("test", config.test_subjects)):
        (root / split).mkdir(exist_ok=True)
        for subject in subjects:
            start = time.perf_counter()
            # One BLAS thread: the matrix products are small enough, threads
            # oversubscribe a loaded machine (5-10x slower), and the results
            # then do not depend on the number of cores.
            with threadpool_limits(limits=1, user_api="blas"):
                sim = _simulate_subject(subject, config)
            solution_rows += _write_subject(sim, split, root, config)
            if split == "train":
                train_imagine.append(_labels_frame(subject, sim.imagine.labels, "imagine"))
            _save_npz(truth_dir / PATTERNS_DIR / f"{subject}.npz", sim.truth)
            subjects_meta[subject] = {"split": split, **sim.metadata}
            logger.info(
                "Simulated %s (%s): %d localizer + %d imagine epochs in %.1f s",
                subject,
                split,
                len(sim.localizer.labels),
                len(sim.imagine.labels),
                time.perf_counter() - start,
            )
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
            "sfreq": _sensors.SFREQ,
            "train_subjects": list(config.train_subjects),
            "test_subjects": list(config.test_subjects),
        },
        "subjects": subjects_meta,
    }
    (truth_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return truth_dir
