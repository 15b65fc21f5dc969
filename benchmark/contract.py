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
    such decoders are skipped on real data) and ``memo`` (``"memo"``: a
    :class:`TaskMemo` shared by every fit of one task, for label-free work
    that each localizer-CV fold would otherwise repeat). A decoder whose
    spec lists ``builds_on`` may also receive ``fitted`` in its final fit:
    the named decoders already fitted on the same whole localizer (see
    :class:`DecoderSpec`).
``predict_proba(X)``
    Localizer-format epochs -> ``(n_epochs, n_classes)`` in ``classes_``
    order. Used for the shared localizer cross-validation.
``predict_proba_imagine(X)``
    Imagine-format epochs (longer time axis, see the context) ->
    ``(n_epochs, n_classes)``. Used for the imagine score and submissions.
``imagine_time_course(X)`` (optional)
    ``(n_epochs, n_imagine_times, n_classes)`` evidence over imagine time,
    for plots.
``pool_time_course(course)`` (optional, with ``imagine_time_course``)
    For decoders whose imagine probabilities are their time course pooled:
    ``imagine_time_course``'s output -> what ``predict_proba_imagine``
    returns. On train subjects the harness then computes the course once,
    for the probabilities and the plot.

These are :class:`Decoder`, :class:`TimeCourseDecoder` and
:class:`PooledTimeCourseDecoder` below (``typing.Protocol``). No imagine
label ever reaches a decoder: the harness takes the arrays from
:class:`datasets.SubjectData`, which holds none.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

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
    "hybrid",
    "oracle",
)

#: What the harness can hand a decoder besides its localizer epochs and labels.
OFFERED: frozenset[str] = frozenset({"imagine", "others", "truth", "memo"})

logger = logging.getLogger(__name__)
T = TypeVar("T")

NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@runtime_checkable
class Decoder(Protocol):
    """What a factory returns: a scikit-learn estimator on 3-D epochs.

    ``isinstance(estimator, Decoder)`` checks that the methods exist (not
    their signatures); the contract tests check what they return.
    """

    def fit(self, X: np.ndarray, y: np.ndarray, **fit_params) -> Decoder:
        """Fit on localizer epochs ``(n_epochs, n_channels, n_times)`` and item names."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer-format epochs -> ``(n_epochs, n_classes)`` in ``classes_`` order."""
        ...

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine-format epochs -> ``(n_epochs, n_classes)`` in ``classes_`` order."""
        ...


@runtime_checkable
class TimeCourseDecoder(Decoder, Protocol):
    """A decoder that also gives its evidence over imagine time (for the report's curves)."""

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Imagine-format epochs -> ``(n_epochs, n_imagine_times, n_classes)`` evidence."""
        ...


@runtime_checkable
class PooledTimeCourseDecoder(TimeCourseDecoder, Protocol):
    """A decoder whose imagine probabilities are its time course pooled (computed once by the runner)."""

    def pool_time_course(self, course: np.ndarray) -> np.ndarray:
        """``imagine_time_course``'s output -> what ``predict_proba_imagine`` returns."""
        ...


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
        ``--force-unranked``. Result rows carry it as ``ranked`` (the
        MOABB-compatible ``results.csv`` repeats it as ``eligible``).
    reference : str
        The method's reference, for the README's decoder table.
    builds_on : tuple of str
        Registered decoders whose whole-localizer fits this decoder's fit
        contains, each built by its own factory from the same context (e.g.
        a stack of two decoders, or an oracle around a decoder). Where fits
        are shared (:mod:`benchmark.fits`), the harness may hand them fitted
        to the final fit as ``fitted={name: estimator}`` (never to a
        localizer-CV fold); the decoder uses a handed estimator only when it
        has the parameters of its own (:func:`decoders.toolkit.bases.fit_or_take`)
        and fits the others itself, as it does when ``fitted`` is absent.
        Each must fit on the localizer alone (empty ``uses``, no
        ``builds_on``; checked by the registry).
    bases : tuple of DecoderSpec
        The specs of ``builds_on``, resolved by the registry (not declared).
    """

    name: str
    family: str
    description: str = ""
    factory: Callable[[DecoderContext], object] | None = None
    uses: frozenset[str] = field(default_factory=frozenset)
    ranked: bool = True
    reference: str = ""
    builds_on: tuple[str, ...] = ()
    module: str = field(default="", compare=False)
    bases: tuple[DecoderSpec, ...] = field(default=(), compare=False, repr=False)

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


class TaskMemo:
    """Label-free results shared by every fit of one task.

    A task is one decoder on one subject: the localizer-CV folds and the final
    fit, each a fresh estimator from the factory. The harness creates one memo
    per task and hands it to every one of those fits (``fit(..., memo=memo)``)
    when the decoder declares ``uses={"memo"}``; outside the harness ``memo`` is
    None and the decoder computes everything itself.

    What may go in: work whose result is the same in every fit of the task,
    because it reads only inputs every fold receives whole: ``others``,
    ``X_imagine`` and the decoder's own parameters (put every one it depends on
    in the key). What must not: anything computed from the fold's ``X`` or
    ``y``, which would carry the held-out fold into the localizer
    cross-validation. The contract tests check it for every decoder that
    declares ``"memo"``: its outputs with a memo shared across folds equal its
    outputs with a fresh memo per fit.

    Examples
    --------
    >>> memo = TaskMemo()
    >>> memo.get(("others", 10), lambda: 2 + 2)
    4
    >>> memo.get(("others", 10), lambda: 1 / 0)  # computed once: not called again
    4
    """

    def __init__(self) -> None:
        self._values: dict = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the value stored under ``key``, computing and storing it the first time.

        Parameters
        ----------
        key : hashable
            Everything the value depends on besides the task (for example the
            decoder's name and the parameters the computation reads).
        compute : callable
            ``compute()`` returns the value; called only when ``key`` is new.

        Returns
        -------
        object
            The stored value. NumPy arrays in it (alone or in a tuple) are made
            read-only, so that a fit cannot change what the next fit receives.

        Raises
        ------
        TypeError
            If ``key`` is not hashable.
        """
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"TaskMemo key must be hashable (a tuple of plain values): {key!r}.") from None
        if key in self._values:
            self.hits += 1
            return self._values[key]
        self.misses += 1
        value = compute()
        for item in value if isinstance(value, tuple) else (value,):
            if hasattr(item, "flags") and hasattr(item.flags, "writeable"):
                item.flags.writeable = False
        self._values[key] = value
        logger.debug("task memo: stored %r", key)
        return value

    def __len__(self) -> int:
        return len(self._values)
