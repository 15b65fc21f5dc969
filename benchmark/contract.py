"""What a decoder declares, and what the harness hands it.

A decoder file in ``decoders/`` declares one module-level ``DECODER =
DecoderSpec(...)``. Its ``factory`` receives a :class:`DecoderContext` (facts
the data knows: sampling rate, time axes, channel types, class names, the
seed) and returns a fresh, unfitted scikit-learn estimator on 3-D epochs
``(n_epochs, n_channels, n_times)`` with:

``fit(X, y, **fit_params)``
    ``X`` the subject's localizer epochs, ``y`` their item names. Keyword
    arguments are passed only when the spec lists them in ``uses``:
    ``X_imagine`` (``"imagine"``: the same subject's imagine epochs, no
    labels), ``others`` (``"others"``: a lazy sequence of ``(X, y)``
    localizer pairs of the other subjects) and ``truth`` (``"truth"``: the
    simulator's ground truth of the subject, for non-ranked oracles only;
    such decoders are skipped on real data).
``predict_proba(X)``
    Localizer-format epochs -> ``(n_epochs, n_classes)`` in ``classes_``
    order. Used for the shared localizer cross-validation.
``predict_proba_imagine(X)``
    Imagine-format epochs (longer time axis, see the context) ->
    ``(n_epochs, n_classes)``. Used for the imagine score and submissions.
``imagine_time_course(X)`` (optional)
    ``(n_epochs, n_imagine_times, n_classes)`` evidence over imagine time,
    for plots.

No imagine label ever reaches a decoder: the harness takes the arrays from
:class:`datasets.SubjectData`, which holds none.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: The closed list of decoder families.
FAMILIES: tuple[str, ...] = (
    "baseline",
    "linear",
    "time-resolved",
    "riemannian",
    "spectral",
    "cross-subject",
    "transductive",
    "template",
    "oracle",
)

#: What the harness can hand a decoder besides its localizer epochs and labels.
OFFERED: frozenset[str] = frozenset({"imagine", "others", "truth"})

NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, eq=False)
class DecoderContext:
    """Facts about the data that a decoder's factory may use.

    Attributes
    ----------
    sfreq : float
        Sampling rate in Hz.
    localizer_times : ndarray, shape (n_localizer_times,)
        Time of each localizer sample in seconds.
    imagine_times : ndarray, shape (n_imagine_times,)
        Time of each imagine sample in seconds.
    ch_types : tuple of str
        ``"mag"`` / ``"grad"`` per channel of ``X``.
    classes : tuple of str
        The item names, in the column order the harness expects.
    random_state : int or None
        Seed for every random choice of the decoder.
    """

    sfreq: float
    localizer_times: np.ndarray
    imagine_times: np.ndarray
    ch_types: tuple[str, ...]
    classes: tuple[str, ...]
    random_state: int | None = None

    def time_params(self) -> dict[str, float]:
        """Return ``sfreq``, ``localizer_tmin`` and ``imagine_tmin`` as estimator keyword arguments.

        Most decoders need exactly these to map samples to seconds in both
        blocks: ``Estimator(**context.time_params(), random_state=context.random_state)``.
        """
        return {
            "sfreq": float(self.sfreq),
            "localizer_tmin": float(self.localizer_times[0]),
            "imagine_tmin": float(self.imagine_times[0]),
        }


@dataclass(frozen=True)
class DecoderSpec:
    """Declaration of one decoder (one per file in ``decoders/``).

    Parameters
    ----------
    name : str
        Kebab-case name used on the command line and in reports.
    family : str
        One of :data:`FAMILIES`.
    description : str
        One line for ``python -m benchmark list`` and the README; empty: the
        first line of ``factory``'s docstring when it is a function (a
        callable object must pass ``description``).
    factory : callable
        ``factory(context: DecoderContext) -> estimator``; returns a fresh,
        unfitted estimator at every call. Required.
    uses : frozenset of str
        Extra inputs the decoder needs, among :data:`OFFERED`.
    ranked : bool
        False for decoders that must not be ranked (e.g. an oracle that knows
        the simulation's ground truth): they are reported beside the
        leaderboard, never on it, and never submitted without
        ``--force-unranked``. Result rows carry it as ``eligible``.
    reference : str
        The method's reference, for the README's decoder table.
    """

    name: str
    family: str
    description: str = ""
    factory: Callable[[DecoderContext], object] | None = None
    uses: frozenset[str] = field(default_factory=frozenset)
    ranked: bool = True
    reference: str = ""
    module: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        """Refuse a missing factory or a non-boolean ``ranked``; default the description to the factory's.

        A string ``ranked`` such as ``"no"`` would be truthy and rank an oracle.
        """
        if not callable(self.factory):
            raise TypeError(f"DecoderSpec {self.name!r}: factory must be callable, got {self.factory!r}.")
        if not self.description and inspect.isfunction(self.factory):  # not a callable object's class doc
            doc = (self.factory.__doc__ or "").strip()
            object.__setattr__(self, "description", doc.splitlines()[0] if doc else "")
        if not isinstance(self.ranked, bool):
            raise TypeError(f"DecoderSpec {self.name!r}: ranked must be True or False, got {self.ranked!r}.")
