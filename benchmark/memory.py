"""Peak memory of one task, measured without slowing it down.

On Linux the kernel keeps each process's peak resident set size (``VmHWM``
in ``/proc/self/status``) and resets it to the current size when ``5`` is
written to ``/proc/self/clear_refs``. A task's peak memory is then the peak
after a reset minus the resident size at the start: everything the task
touched, numpy buffers, BLAS workspaces and the pages of memory-mapped data
it read included, at no cost while it runs. Where that interface is missing,
:mod:`tracemalloc` is used instead; it traces only Python-visible
allocations (numpy's included) and slowed tasks by 12-18 % here.
"""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path
from types import TracebackType

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_mb(field: str) -> float:
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", _STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise OSError(f"{field} not in {_STATUS}")
    return int(match.group(1)) / 1024


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS; False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
        return _status_mb("VmHWM") <= _status_mb("VmRSS") + 1.0
    except OSError:
        return False


class PeakMemory:
    """Context manager measuring the peak memory added while it is active.

    Attributes
    ----------
    method : str
        ``"rss"`` (peak resident set size, Linux) or ``"tracemalloc"``.
    peak_mb : float
        Peak memory added inside the block (MB); set on exit.

    Examples
    --------
    >>> import numpy as np
    >>> with PeakMemory() as memory:
    ...     block = np.ones(2**25)  # 256 MB
    >>> memory.peak_mb > 200
    True
    """

    def __init__(self) -> None:
        self.method = ""
        self.peak_mb = float("nan")
        self._start_mb = 0.0

    def __enter__(self) -> PeakMemory:
        if _reset_peak():
            self.method = "rss"
            self._start_mb = _status_mb("VmRSS")
        else:
            self.method = "tracemalloc"
            tracemalloc.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.method == "rss":
            self.peak_mb = max(0.0, _status_mb("VmHWM") - self._start_mb)
        else:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.peak_mb = peak / 2**20
