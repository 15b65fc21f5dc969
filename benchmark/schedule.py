"""Order tasks longest first, from the durations of the previous run.

With a fixed number of worker processes, the run ends when the last task
ends. Started in decoder-major order, the slowest decoder's tasks may run
last, with one core idle while they finish. Starting the longest tasks first
(the LPT rule: Graham 1969, SIAM J Appl Math) bounds the idle tail by the
shortest tasks instead. Durations are taken from the previous run's
``tasks.jsonl`` in the same output folder; decoders it does not list are
assumed long and start first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def longest_first(items: Sequence[T], durations: Mapping[str, float], name: Callable[[T], str]) -> list[T]:
    """Sort ``items`` by expected duration, longest first; unknown durations first.

    Parameters
    ----------
    items : sequence
        Tasks to order.
    durations : mapping
        Expected duration per decoder name (see :func:`benchmark.journal.previous_durations`).
    name : callable
        The decoder name of an item.

    Returns
    -------
    list
        The items, reordered; ties keep their given order (the sort is stable).
    """
    return sorted(items, key=lambda item: -durations.get(name(item), math.inf))
