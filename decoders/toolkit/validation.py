"""Input validation shared by every decoder building block.

:func:`check_epochs` and :func:`check_localizer_epochs` (arrays),
:func:`all_finite` (their NaN/inf check),
:func:`check_labels` (labels), and :class:`StatelessTransformer`, the base of
pipeline steps that learn nothing and only check their parameters at fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


def all_finite(X: np.ndarray) -> bool:
    """Whether every value of a real array is finite, in one pass without a temporary array.

    The sum of the values is finite exactly when every value is, unless the
    sum overflows; only then are the values checked one by one. On
    480 x 306 x 121 epochs this is 2-3x faster than ``np.isfinite(X).all()``,
    which matters because every fit and predict checks its input.

    Parameters
    ----------
    X : ndarray
        Real-valued (integer or floating) array of any shape.

    Returns
    -------
    bool
    """
    if X.dtype.kind in "biu" or X.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.einsum(X, list(range(X.ndim)), [])
    return bool(np.isfinite(total)) or bool(np.isfinite(X).all())


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
    if not all_finite(X):
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
    X, n_channels, keep_float32
        As in :func:`check_epochs`.
    n_times : int
        Samples per localizer epoch seen at fit time.

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


def check_labels(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y, classes)`` after checking one label per epoch and >= 2 classes."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must hold one label per epoch: X has {len(X)} epochs, y has shape {y.shape}.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"Decoding needs at least 2 classes, got {classes.tolist()}.")
    return y, classes


class StatelessTransformer(TransformerMixin, BaseEstimator):
    """Base of transformers that learn nothing: ``fit`` only checks the parameters.

    Subclasses implement :meth:`_check` (raise ``ValueError`` on parameters
    that cannot apply to ``X``) and :meth:`_transform` (the work, on checked
    epochs); :meth:`transform` fails the scikit-learn way when the step is
    used unfitted. Input is checked by :func:`check_epochs` unless a subclass
    overrides :meth:`_check_input`.
    """

    def _check(self, X: np.ndarray) -> None:
        """Raise ValueError when the parameters cannot apply to ``X`` (default: accept)."""

    def _check_input(self, X: Any) -> np.ndarray:
        """Validate the epochs handed to :meth:`transform` (default: :func:`check_epochs`)."""
        return check_epochs(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray | None = None):
        """Check the parameters against ``X``; nothing is learnt.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
        y : ignored

        Returns
        -------
        self
        """
        self._check(X)
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply the step to every epoch.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray
            Of the shape given in the class docstring.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "n_features_in_")
        return self._transform(self._check_input(X))
