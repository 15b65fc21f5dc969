"""Input validation shared by every decoder building block."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_epochs(
    X: Any, n_channels: int | None = None, name: str = "X", *, keep_float32: bool = False
) -> np.ndarray:
    """Validate epochs and return them as float64 (or float32, kept).

    Parameters
    ----------
    X : array-like, shape (n_epochs, n_channels, n_times)
        Epochs.
    n_channels : int or None
        Channel count seen at fit time (None: not checked).
    name : str
        Name used in error messages.
    keep_float32 : bool
        Return float32 input as it is (no copy), for callers whose next step
        is a float32 BLAS call or a float64 accumulation; other dtypes are
        converted to float64.

    Returns
    -------
    ndarray
        ``X`` as float64 (no copy when it already is), or float32 when
        ``keep_float32`` and the input is float32.

    Raises
    ------
    ValueError
        If ``X`` is not 3-D, empty, not real-valued, has another channel
        count than ``n_channels``, or holds NaN/inf.
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"{name} must be a 3-D array (n_epochs, n_channels, n_times), got ndim={X.ndim} "
            f"and shape {X.shape}."
        )
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {X.dtype}.")
    if 0 in X.shape:
        raise ValueError(f"{name} must not be empty, got shape {X.shape}.")
    if n_channels is not None and X.shape[1] != n_channels:
        raise ValueError(f"{name} has {X.shape[1]} channels, but the decoder was fitted on {n_channels}.")
    if not np.isfinite(X).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; remove or interpolate them before decoding."
        )
    if keep_float32 and X.dtype == np.float32:
        return X
    return X.astype(np.float64, copy=False)


def check_localizer_epochs(
    X: Any, n_channels: int | None, n_times: int, *, keep_float32: bool = False
) -> np.ndarray:
    """Validate epochs given to ``predict_proba``, which takes localizer-format epochs only.

    Parameters
    ----------
    X : array-like, shape (n_epochs, n_channels, n_times)
        Epochs.
    n_channels : int or None
        Channel count seen at fit time (None: not checked).
    n_times : int
        Samples per localizer epoch seen at fit time.
    keep_float32 : bool
        As in :func:`check_epochs`.

    Returns
    -------
    ndarray
        ``X`` as returned by :func:`check_epochs`.

    Raises
    ------
    ValueError
        As :func:`check_epochs`, or if the epochs do not have ``n_times``
        samples (imagine epochs go to ``predict_proba_imagine``).
    """
    X = check_epochs(X, n_channels, keep_float32=keep_float32)
    if X.shape[2] != n_times:
        raise ValueError(
            f"predict_proba expects localizer-format epochs with {n_times} samples, "
            f"got {X.shape[2]}; use predict_proba_imagine for imagine epochs."
        )
    return X
