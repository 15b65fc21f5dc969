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
chance 0.10). ``python -m datasets.simulate.calibrate`` re-measures these.

The package has one module per job: :mod:`~datasets.simulate.config` (every
parameter, :class:`SimulationConfig`), :mod:`~datasets.simulate.model` (a
subject's anatomy, sources, patterns and noise model),
:mod:`~datasets.simulate.blocks` (the localizer and imagine signals of one
subject), :mod:`~datasets.simulate.writer` (the official layout and the ground
truth); :mod:`~datasets.simulate.sensors` (the MEG system's physics) and
:mod:`~datasets.simulate.waveforms` (time courses, noise, artefacts) hold its
building blocks, :mod:`~datasets.simulate.calibrate` re-measures the defaults.

Examples
--------
>>> from pathlib import Path
>>> from datasets.simulate import SimulationConfig, simulate_dataset
>>> truth = simulate_dataset(Path("sim"), SimulationConfig(n_train=2, n_test=1))
... # doctest: +SKIP
"""

from .blocks import half_max_intervals, simulate_subject
from .config import (
    IMAGERY_TIMINGS,
    IMAGINE_FIRST_SAMPLE,
    IMAGINE_SAMPLE_STEP,
    IMAGINE_WINDOW,
    LOCALIZER_WINDOW,
    METADATA_FILE,
    PATTERNS_DIR,
    REGIME_FIELD_DEFAULTS,
    SIMULATOR_VERSION,
    SOLUTION_FILE,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    SimulationConfig,
    default_truth_dir,
)
from .model import is_weak_subject
from .writer import simulate_dataset

__all__ = [
    "IMAGERY_TIMINGS",
    "IMAGINE_FIRST_SAMPLE",
    "IMAGINE_SAMPLE_STEP",
    "IMAGINE_WINDOW",
    "LOCALIZER_WINDOW",
    "METADATA_FILE",
    "PATTERNS_DIR",
    "REGIME_FIELD_DEFAULTS",
    "SIMULATOR_VERSION",
    "SOLUTION_FILE",
    "TEST_SUBJECTS",
    "TRAIN_SUBJECTS",
    "SimulationConfig",
    "default_truth_dir",
    "half_max_intervals",
    "is_weak_subject",
    "simulate_dataset",
    "simulate_subject",
]
