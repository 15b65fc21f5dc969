"""Configuration of the simulator: every parameter of a simulated dataset, and its constants.

Part of :mod:`datasets.simulate`; see its docstring for the model.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import sensors

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

#: Units of the physical model.
NAM = 1e-9  # nA m -> A m
FT = 1e-15  # fT -> T
UV = 1e-6  # uV -> V


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
        if not 1.0 <= lo_f <= hi_f < sensors.LOWPASS:
            raise ValueError(
                f"induced_peak_range_hz must be (lo, hi) with 1 <= lo <= hi < {sensors.LOWPASS} Hz, "
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
