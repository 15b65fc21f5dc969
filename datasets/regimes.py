"""Named simulation regimes: the conditions the robustness matrix runs decoders in.

A regime is a documented preset of :class:`datasets.simulate.SimulationConfig`
fields that changes one thing a decoder may silently depend on: when imagery
happens, the rank and noise structure of the sensor data, or how unequal the
subjects are, and whether the class information is evoked (phase-locked),
induced (oscillatory power) or both. ``default`` is the simulator's default (the leaderboard's
dataset); every other regime differs from it only by the fields it lists.
The transfer weight ``alpha`` and the size of the study are set separately
(see :func:`regime_config`), so the same regime is run at several alphas.

See ``docs/robustness.md`` for what each regime models and what the matrix
can and cannot say about real data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .simulate import SimulationConfig


@dataclass(frozen=True)
class Regime:
    """One named preset of simulation fields.

    Parameters
    ----------
    name : str
        Kebab-case name used on the command line and in reports.
    description : str
        One line: what the regime models.
    overrides : mapping of str to value
        :class:`SimulationConfig` fields that differ from the default.
    """

    name: str
    description: str
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))


#: Whitened norm of each class's induced topography in the induced regimes (``induced_separation``).
INDUCED_SEPARATION = 0.8
#: Scale of each kind of class signal in the mixed regimes.
MIXED_GAIN = 0.75


def _regimes(*regimes: Regime) -> Mapping[str, Regime]:
    return MappingProxyType({r.name: r for r in regimes})


#: The registry the robustness command iterates, in report order.
REGIMES: Mapping[str, Regime] = _regimes(
    Regime(
        "default",
        "the leaderboard's simulator: one sustained 1-2.5 s imagery plateau starting 0.3-1.5 s after "
        "the word (subject-specific mean), SSS-projected data of rank ~70",
    ),
    Regime(
        "brief",
        "one 0.3-0.8 s imagery burst per trial, its onset uniform in 0.3-3.0 s",
        {"imagery_timing": "brief"},
    ),
    Regime(
        "reactivations",
        "2-4 bursts of 0.3-0.8 s per trial at random onsets in 0.3-4.2 s",
        {"imagery_timing": "reactivations"},
    ),
    Regime(
        "late",
        "a sustained 1-2.5 s plateau starting 2-4 s after the word (cut at 5 s)",
        {"imagery_timing": "late"},
    ),
    Regime(
        "full-rank",
        "no SSS projection: full 306-channel fields, real noise covariance plus independent sensor noise",
        {"sss_projection": False},
    ),
    Regime(
        "snr-spread",
        "every third subject of the study's order (sub-06, sub-13, ...) has class signals at 10 %",
        {"weak_subject_period": 3},
    ),
    Regime(
        "brief-full-rank",
        "brief bursts on full-rank data: both departures from the default at once",
        {"imagery_timing": "brief", "sss_projection": False},
    ),
    Regime(
        "induced",
        "class information only in induced power: a class topography carrying an 8-25 Hz oscillation "
        "(subject-specific peak) with a random phase on every trial; no class-specific evoked signal",
        {"evoked_gain": 0.0, "induced_separation": INDUCED_SEPARATION},
    ),
    Regime(
        "induced-full-rank",
        "induced power only, on full-rank data (no SSS projection)",
        {"evoked_gain": 0.0, "induced_separation": INDUCED_SEPARATION, "sss_projection": False},
    ),
    Regime(
        "mixed",
        f"evoked and induced class signals at once, each weaker (evoked x{MIXED_GAIN:g}, induced "
        f"x{MIXED_GAIN:g})",
        {"evoked_gain": MIXED_GAIN, "induced_separation": MIXED_GAIN * INDUCED_SEPARATION},
    ),
    Regime(
        "mixed-full-rank",
        "evoked and induced class signals at once, each weaker, on full-rank data",
        {
            "evoked_gain": MIXED_GAIN,
            "induced_separation": MIXED_GAIN * INDUCED_SEPARATION,
            "sss_projection": False,
        },
    ),
)


def get_regime(name: str) -> Regime:
    """Return the registered regime ``name``.

    Raises
    ------
    KeyError
        If no regime has that name; the message lists the valid names.
    """
    try:
        return REGIMES[name]
    except KeyError:
        raise KeyError(f"unknown regime {name!r}; valid regimes: {', '.join(REGIMES)}") from None


def regime_config(name: str, **fields: Any) -> SimulationConfig:
    """Return the :class:`SimulationConfig` of regime ``name``, with more fields set.

    Parameters
    ----------
    name : str
        A key of :data:`REGIMES`.
    **fields
        Other fields (``alpha``, ``n_train``, ``seed``, ...). A field the
        regime sets cannot be overridden here: that would be another regime.

    Returns
    -------
    SimulationConfig

    Raises
    ------
    KeyError
        If the regime is unknown.
    ValueError
        If ``fields`` overrides a field the regime sets, or a value is invalid.
    """
    regime = get_regime(name)
    clash = sorted(set(fields) & set(regime.overrides))
    if clash:
        raise ValueError(
            f"regime {name!r} sets {', '.join(clash)}; choose another regime instead of overriding them."
        )
    return SimulationConfig(**{**fields, **regime.overrides})
