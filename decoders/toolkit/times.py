"""Time axes and windows: one rule from seconds to samples.

- :func:`sample_times`: the time of each sample, from the data's ``tmin``
  and sampling rate;
- :func:`time_mask`: the samples inside an interval (inclusive, half a
  sample of tolerance: the one interval rule of every decoder);
- :func:`window_width`, :func:`moving_average`: centred moving averages;
- :func:`window_starts`, :func:`training_windows`, :func:`window_means`:
  sliding windows and their time averages;
- :class:`WindowMean`: the time average of a window as a pipeline step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from decoders.toolkit.validation import StatelessTransformer


def sample_times(tmin: float, sfreq: float, n_times: int) -> np.ndarray:
    """Time of each sample in seconds.

    Parameters
    ----------
    tmin : float
        Time of the first sample (s).
    sfreq : float
        Sampling rate (Hz).
    n_times : int
        Number of samples.

    Returns
    -------
    ndarray, shape (n_times,)
    """
    return tmin + np.arange(n_times) / sfreq


def time_mask(
    tmin: float,
    sfreq: float,
    n_times: int,
    interval: tuple[float | None, float | None] | None,
    what: str = "interval",
) -> np.ndarray:
    """Boolean mask of the samples inside ``interval`` (inclusive).

    Parameters
    ----------
    tmin, sfreq, n_times
        The time axis, as in :func:`sample_times`.
    interval, what
        As in :func:`interval_mask`, which gives the mask (and raises if it is empty).
    """
    return interval_mask(sample_times(tmin, sfreq, n_times), interval, what, tol=0.5 / sfreq)


def interval_mask(
    times: np.ndarray,
    interval: tuple[float | None, float | None] | None,
    what: str = "interval",
    *,
    tol: float | None = None,
) -> np.ndarray:
    """Apply the interval rule: samples whose time lies in ``interval``, bounds included.

    Every decoder maps seconds to samples with this function (through
    :func:`time_mask` or :func:`window_starts`): a bound includes the sample
    within half a sample of it, so that on a 100 Hz axis ``(0.05, 0.6)``
    holds the 56 samples from 0.05 to 0.60 s whatever the rounding of
    ``tmin + k / sfreq``.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
        Time of each sample (s), increasing and evenly spaced.
    interval : tuple of (float or None) or None
        ``(start, stop)`` in seconds; None (or a None bound) means no limit.
    what : str
        Name of the parameter, for the error message.
    tol : float or None
        Tolerance (s); None: half the sample spacing.

    Returns
    -------
    ndarray of bool, shape (n_times,)

    Raises
    ------
    ValueError
        If the interval holds no sample.
    """
    times = np.asarray(times, dtype=float)
    if interval is None:
        return np.ones(len(times), dtype=bool)
    if tol is None:
        tol = 0.5 * float(times[1] - times[0]) if len(times) > 1 else 0.0
    start, stop = interval
    mask = np.ones(len(times), dtype=bool)
    if start is not None:
        mask &= times >= start - tol
    if stop is not None:
        mask &= times <= stop + tol
    if not mask.any():
        raise ValueError(
            f"{what}={interval} s holds no sample of an epoch spanning "
            f"{times[0]:.3f}..{times[-1]:.3f} s; choose an interval inside it."
        )
    return mask


def window_width(half_window: float, sfreq: float) -> int:
    """Return the number of samples of a centred window of half-width ``half_window`` s."""
    if half_window < 0:
        raise ValueError(f"half_window must be >= 0 s, got {half_window}.")
    return 2 * int(round(half_window * sfreq)) + 1


def moving_average(Z: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over the last (time) axis.

    Parameters
    ----------
    Z : ndarray, shape (..., n_times)
        Data; not modified.
    width : int
        Window length in samples (1: no smoothing, returns ``Z`` itself).

    Returns
    -------
    ndarray, same shape as ``Z``
    """
    if width <= 1:
        return Z
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(Z, size=width, axis=-1, mode="nearest")


def window_starts(times: np.ndarray, span: tuple[float, float], length: int, stride: int) -> np.ndarray:
    """Start samples of sliding windows lying entirely inside ``span``.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
        Time of each sample (s), increasing.
    span : tuple of float
        ``(tmin, tmax)`` in s: the first sample of a window is at or after
        ``tmin`` and its last sample at or before ``tmax``.
    length : int
        Window length in samples (>= 1).
    stride : int
        Samples between consecutive window starts (>= 1).

    Returns
    -------
    starts : ndarray of int, shape (n_windows,)
        Start indices; window ``k`` covers ``times[starts[k]:starts[k] + length]``.

    Raises
    ------
    ValueError
        If ``length`` or ``stride`` is not positive, or if no window fits.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1 sample, got length={length}, stride={stride}.")
    inside = np.flatnonzero(interval_mask(times, span, "span"))
    first, last = int(inside[0]), int(inside[-1]) + 1  # last: one past the last sample allowed
    if last - first < length:
        raise ValueError(
            f"No window of {length} samples fits in {span} s (data span {times[0]:.3f}..{times[-1]:.3f} s)."
        )
    return np.arange(first, last - length + 1, stride)


def training_windows(
    times: np.ndarray, windows: Sequence[tuple[float, float]], sfreq: float
) -> tuple[np.ndarray, int]:
    """First sample of each candidate training window, and their common length.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
        Time of each localizer sample (s).
    windows : sequence of (float, float)
        Candidate windows ``(tmin, tmax)`` in s, all of the same duration.
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    starts : ndarray of int, shape (n_candidates,)
        First sample of each window.
    length : int
        Samples per window (``round((tmax - tmin) * sfreq) + 1``).

    Raises
    ------
    ValueError
        If there is no candidate, durations differ, or a window does not
        fit in ``times``.
    """
    if len(windows) == 0:
        raise ValueError("windows must hold at least one (tmin, tmax) candidate, got none.")
    lengths = {int(round((b - a) * sfreq)) + 1 for a, b in windows}
    if len(lengths) != 1:
        raise ValueError(f"all candidate windows must have the same duration, got {list(windows)}.")
    length = lengths.pop()
    starts = np.array([window_starts(times, w, length, 1)[0] for w in windows])
    return starts, length


def window_means(X: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Time average of ``length`` samples from each start (cumulative sums).

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs.
    starts : ndarray of int, shape (n_windows,)
        First sample of each window.
    length : int
        Samples per window.

    Returns
    -------
    ndarray, shape (n_epochs, n_channels, n_windows)
    """
    X = np.asarray(X)
    starts = np.asarray(starts, dtype=int)
    if len(starts) == 0:
        return np.empty(X.shape[:2] + (0,))
    lo, hi = int(starts.min()), int(starts.max()) + length
    if len(starts) * length <= hi - lo:  # few windows: sum only the samples they cover
        return np.stack([X[:, :, a : a + length].mean(axis=2, dtype=np.float64) for a in starts], axis=2)
    csum = np.zeros(X.shape[:2] + (hi - lo + 1,))
    np.cumsum(X[:, :, lo:hi], axis=2, dtype=np.float64, out=csum[:, :, 1:])
    return (csum[:, :, starts - lo + length] - csum[:, :, starts - lo]) / length


class WindowMean(StatelessTransformer):
    """Average over time: (n_epochs, n_channels, n_times) -> (n_epochs, n_channels)."""

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X.mean(axis=2)
