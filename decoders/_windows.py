"""Window decoding: train on one localizer window, scan imagery with sliding windows.

Shared by ``xdawn-riemann``, ``csp-lda``, ``band-power`` and
``aligned-cross-subject``. Building blocks, all scikit-learn estimators on
3-D epochs ``(n_epochs, n_channels, n_times)``:

- :class:`EpochsPCA`: per-channel standardisation + PCA fitted on every
  (epoch, time) sample; tSSS leaves 306 MEG channels with rank ~69, and
  covariance methods need full-rank inputs.
- :class:`BandPass`, :class:`FilterBank`: zero-phase Butterworth band-pass
  and filter banks (signals or Hilbert amplitude envelopes), computed on
  whole epochs (before any window is cut out, so that windows carry no
  filter edge effects); :class:`ChannelBlock` picks one band of a bank.
- :class:`WindowMean`: time average of a window, 3-D -> 2-D features.
- :class:`WindowScanDecoder`: a whole-epoch ``preprocessor`` (fitted on the
  localizer), then a window ``classifier`` (a Pipeline) trained on one
  localizer window (chosen among candidates by inner cross-validation on the
  localizer) and applied to sliding imagine windows of the same length; the
  decision values of each class are z-scored over the imagine batch (all
  epochs and windows, no labels) before being aggregated over windows.

Helpers: :func:`window_starts` (start samples of sliding windows),
:func:`training_windows`, :func:`window_means`, :func:`aggregate_evidence`,
:func:`inverse_sqrtm` (shrunk inverse square root of a covariance, for
Euclidean alignment), :func:`oas_covariance` (a light OAS estimator for
pyriemann), :func:`quiet_uwedge` (fast joint diagonalisation for multiclass
CSP).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.validation import check_is_fitted

from decoders._evidence import zscore_over_batch
from decoders._validation import check_epochs, check_localizer_epochs

logger = logging.getLogger(__name__)

__all__ = [
    "AGGREGATES",
    "BandPass",
    "BatchCovariances",
    "ChannelBlock",
    "EpochsPCA",
    "FilterBank",
    "WindowMean",
    "WindowScanDecoder",
    "aggregate_evidence",
    "channel_scatter",
    "inverse_sqrtm",
    "mean_covariance",
    "oas_covariance",
    "oas_second_moment",
    "training_windows",
    "window_means",
    "quiet_uwedge",
    "seed_estimator",
    "window_starts",
]

#: Ways of combining per-window evidence into one score per class.
AGGREGATES: tuple[str, ...] = ("mean", "max")


# ----------------------------------------------------------------------------
# functions
# ----------------------------------------------------------------------------
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
    times = np.asarray(times, dtype=float)
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1 sample, got length={length}, stride={stride}.")
    tol = 1e-6
    first = int(np.searchsorted(times, span[0] - tol))
    last = int(np.searchsorted(times, span[1] + tol, side="right"))  # one past the last sample allowed
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


def aggregate_evidence(decision: np.ndarray, how: str = "mean") -> np.ndarray:
    """Z-score each class over the batch, then combine windows.

    Parameters
    ----------
    decision : ndarray, shape (n_epochs, n_windows, n_classes)
        Decision values of every epoch at every window.
    how : {'mean', 'max'}
        ``'mean'``: average over windows, times ``sqrt(n_windows)`` (unit
        variance under independent noise); ``'max'``: maximum over windows.

    Returns
    -------
    evidence : ndarray, shape (n_epochs, n_classes)
        Softmax input (log-probabilities up to a constant).

    Notes
    -----
    The z-scoring uses all epochs and windows of the batch and no label: it
    removes the class offsets and scale differences that a localizer-trained
    classifier shows on imagery data.
    """
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {how!r}.")
    z = zscore_over_batch(decision, (0, 1))
    if how == "max":
        return z.max(axis=1)
    return z.mean(axis=1) * np.sqrt(z.shape[1])


def channel_scatter(X: np.ndarray, chunk: int = 32) -> np.ndarray:
    """Sum over epochs and samples of ``x x^T``, without a transposed copy of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs; float32 input is multiplied in float32 (a symmetric rank-k
        update per chunk of epochs) and accumulated in float64.
    chunk : int
        Epochs per rank-k update; bounds the temporary copy to
        ``chunk * n_channels * n_times`` values.

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
        ``sum_i X[i] @ X[i].T`` in float64.

    Notes
    -----
    ``X[i] @ X[i].T`` summed over epochs equals ``F @ F.T`` with ``F`` the
    channels-by-(epochs x samples) matrix. Building ``F`` for a whole subject
    copies the data once more (142 MB in float64); BLAS ``?syrk`` on chunks
    computes only one triangle, from a cache-sized copy.
    """
    from scipy.linalg import blas

    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_epochs, n_channels, n_times), got shape {X.shape}.")
    single = X.dtype == np.float32
    syrk, dtype = (blas.ssyrk, np.float32) if single else (blas.dsyrk, np.float64)
    n_channels = X.shape[1]
    acc = np.zeros((n_channels, n_channels))
    for start in range(0, len(X), max(1, chunk)):
        block = np.ascontiguousarray(X[start : start + chunk].transpose(1, 0, 2), dtype=dtype)
        # a C-ordered (channels, k) block is a Fortran (k, channels) one: trans=1 gives block @ block.T
        acc += syrk(1.0, block.reshape(n_channels, -1).T, trans=1, lower=0)
    return np.triu(acc) + np.triu(acc, 1).T


def mean_covariance(X: np.ndarray) -> np.ndarray:
    """Average over epochs of each epoch's time-centred channel covariance.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs (any float dtype; accumulated in float64).

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
    """
    X = np.asarray(X)
    n, _, t = X.shape
    means = X.mean(axis=2, dtype=np.float64)  # (n, c)
    return (channel_scatter(X) - t * (means.T @ means)) / (n * t)


def inverse_sqrtm(cov: np.ndarray, reg: float = 1e-2) -> np.ndarray:
    """Symmetric inverse square root of a shrunk covariance matrix.

    Parameters
    ----------
    cov : ndarray, shape (n_channels, n_channels)
        Symmetric positive semi-definite matrix.
    reg : float
        Shrinkage towards the identity scaled by the mean eigenvalue:
        ``(1 - reg) cov + reg * trace(cov) / n * I``; keeps rank-deficient
        (tSSS) covariances invertible.

    Returns
    -------
    ndarray, shape (n_channels, n_channels)
        ``W`` with ``W @ cov_shrunk @ W = I``; symmetric, so whitened channels
        keep their identity (Euclidean alignment).

    Raises
    ------
    ValueError
        If ``cov`` is not square, ``reg`` is not in [0, 1] or the matrix is
        zero.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square matrix, got shape {cov.shape}.")
    if not 0.0 <= reg <= 1.0:
        raise ValueError(f"reg must be in [0, 1], got {reg}.")
    cov = (cov + cov.T) / 2
    mu = np.trace(cov) / cov.shape[0]
    if not mu > 0:
        raise ValueError("cov has zero trace: cannot whiten constant data.")
    shrunk = (1 - reg) * cov + reg * mu * np.eye(cov.shape[0])
    vals, vecs = np.linalg.eigh(shrunk)
    vals = np.maximum(vals, reg * mu if reg > 0 else np.finfo(float).tiny)
    return (vecs / np.sqrt(vals)) @ vecs.T


def oas_covariance(X: np.ndarray, assume_centered: bool = False) -> np.ndarray:
    """Oracle-approximating-shrinkage covariance of multichannel time series.

    The estimate of :func:`sklearn.covariance.oas` (Chen et al. 2010, the
    formula of scikit-learn 1.9) without its per-call validation overhead,
    for pyriemann's ``estimator=`` argument, which calls it once per epoch
    (pyriemann's own ``'oas'`` costs ~1 ms per matrix, too slow to scan
    thousands of imagine windows; its vectorised ``'sch'`` emits a
    DeprecationWarning from array_api_extra under pyriemann 0.12).

    Parameters
    ----------
    X : ndarray, shape (..., n_channels, n_times)
        Time series.
    assume_centered : bool
        False: centre each series over time (a covariance). True: use the
        raw second moment, which keeps a sustained deviation from the
        baseline (e.g. an imagery pattern held over the whole window) that
        centring would remove.

    Returns
    -------
    ndarray, shape (..., n_channels, n_channels)
        Shrunk matrices ``(1 - s) S + s * trace(S) / n_channels * I``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_channels, n_times = X.shape[-2:]
    Xc = X if assume_centered else X - X.mean(axis=-1, keepdims=True)
    emp = Xc @ np.swapaxes(Xc, -1, -2) / n_times
    if n_channels == 1:
        return emp
    alpha = np.mean(emp**2, axis=(-2, -1))
    mu = np.trace(emp, axis1=-2, axis2=-1) / n_channels
    num = alpha + mu**2
    den = (n_times + 1) * (alpha - mu**2 / n_channels)
    shrink = np.where(den > 0, np.minimum(num / np.where(den > 0, den, 1.0), 1.0), 1.0)
    eye = np.eye(n_channels)
    return (1 - shrink)[..., None, None] * emp + (shrink * mu)[..., None, None] * eye


def oas_second_moment(X: np.ndarray) -> np.ndarray:
    """OAS-shrunk second moment (not centred over time) of multichannel time series.

    ``oas_covariance(X, assume_centered=True)``, as a module-level function
    for pyriemann's ``estimator=`` argument (picklable, no extra keywords).

    Parameters
    ----------
    X : ndarray, shape (..., n_channels, n_times)
        Baseline-corrected time series.

    Returns
    -------
    ndarray, shape (..., n_channels, n_channels)
    """
    return oas_covariance(X, assume_centered=True)


def quiet_uwedge(
    X: np.ndarray, *, init: np.ndarray | None = None, eps: float = 1e-7, n_iter_max: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """UWEDGE approximate joint diagonalisation, logging non-convergence.

    A fast (vectorised) replacement for ``ajd_pham`` in pyriemann's
    multiclass CSP (``CSP(ajd_method=quiet_uwedge)``): class-mean covariances
    are never exactly jointly diagonalisable, so UWEDGE often stops at
    ``n_iter_max`` and its best estimate is used. That single
    ``"Convergence not reached"`` warning is caught around this one call and
    logged (DEBUG); any other warning is re-emitted.

    Parameters
    ----------
    X : ndarray, shape (n_matrices, n, n)
        Symmetric matrices to diagonalise jointly.
    init : ndarray, shape (n, n) or None
        Initial diagonaliser (None: UWEDGE's own).
    eps : float
        Convergence tolerance.
    n_iter_max : int
        Maximum number of iterations.

    Returns
    -------
    V : ndarray, shape (n, n)
        Diagonaliser.
    D : ndarray, shape (n_matrices, n, n)
        Quasi-diagonal matrices.
    """
    from pyriemann.geometry.ajd import uwedge

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        V, D = uwedge(X, init=init, eps=eps, n_iter_max=n_iter_max)
    for item in caught:
        if issubclass(item.category, UserWarning) and "Convergence not reached" in str(item.message):
            logger.debug("UWEDGE stopped after %d iterations without converging (eps=%g).", n_iter_max, eps)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return V, D


def seed_estimator(estimator, random_state: int | None):
    """Set every ``random_state`` parameter of ``estimator`` (nested too); return it."""
    seeds = {
        key: random_state
        for key in estimator.get_params()
        if key == "random_state" or key.endswith("__random_state")
    }
    return estimator.set_params(**seeds)


# ----------------------------------------------------------------------------
# transformers on 3-D epochs
# ----------------------------------------------------------------------------
class EpochsPCA(TransformerMixin, BaseEstimator):
    """Standardise channels, then PCA over all (epoch, time) samples.

    The covariance of the channels over every sample of every epoch is
    formed in one BLAS product, standardised and diagonalised (the
    ``covariance_eigh`` route of :class:`sklearn.decomposition.PCA`).

    Parameters
    ----------
    n_components : int or None
        Components kept (capped by the number of channels); None keeps only
        the standardisation.
    time_step : int
        Use every ``time_step``-th sample to estimate the covariance (the
        data are band-limited, so neighbouring samples add little).

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_channels,)
        Channel means and standard deviations (1 for constant channels).
    components_ : ndarray, shape (n_components, n_channels) or None
        Principal axes of the standardised data, by decreasing variance; the
        sign of each makes its largest-magnitude coefficient positive.
    explained_variance_ : ndarray, shape (n_components,) or None
        Variance along each axis.
    n_channels_ : int
        Channels seen at fit.
    """

    def __init__(self, n_components: int | None = 60, time_step: int = 1) -> None:
        self.n_components = n_components
        self.time_step = time_step

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> EpochsPCA:
        """Fit the standardisation and the principal axes.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs. Not modified.
        y : ignored

        Returns
        -------
        self : EpochsPCA
        """
        if self.n_components is not None and self.n_components < 1:
            raise ValueError(f"n_components must be >= 1 or None, got {self.n_components}.")
        if self.time_step < 1:
            raise ValueError(f"time_step must be >= 1, got {self.time_step}.")
        X = check_epochs(X)[:, :, :: self.time_step]
        n_samples = X.shape[0] * X.shape[2]
        self.n_channels_ = X.shape[1]
        self.mean_ = X.mean(axis=(0, 2))
        second = channel_scatter(X) / n_samples
        cov = second - np.outer(self.mean_, self.mean_)
        std = np.sqrt(np.clip(np.diag(cov), 0, None))
        self.scale_ = np.where(std > 0, std, 1.0)
        self.components_ = self.explained_variance_ = None
        if self.n_components is not None:
            corr = cov / np.outer(self.scale_, self.scale_)
            vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
            keep = np.argsort(vals)[::-1][: min(self.n_components, self.n_channels_)]
            vecs = vecs[:, keep].T
            signs = np.sign(vecs[np.arange(len(vecs)), np.abs(vecs).argmax(axis=1)])
            self.components_ = vecs * signs[:, None]
            self.explained_variance_ = vals[keep]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project epochs on the components.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs with the fitted channels; any number of samples.

        Returns
        -------
        ndarray, shape (n_epochs, n_components, n_times)
            Zero-mean over the training samples.
        """
        check_is_fitted(self, "mean_")
        X = check_epochs(X, self.n_channels_)
        if self.components_ is None:
            return (X - self.mean_[:, None]) / self.scale_[:, None]
        weights = self.components_ / self.scale_  # (n_components, n_channels)
        return np.matmul(weights, X) - (weights @ self.mean_)[:, None]


class _StatelessTransformer(TransformerMixin, BaseEstimator):
    """Base of transformers that learn nothing: ``fit`` only checks the parameters.

    Subclasses implement :meth:`_check` (raise ``ValueError`` on parameters
    that cannot apply to ``X``) and ``transform``, which calls
    ``check_is_fitted(self, "n_features_in_")`` so that a pipeline step used
    unfitted still fails the scikit-learn way.
    """

    def _check(self, X: np.ndarray) -> None:
        """Raise ValueError when the parameters cannot apply to ``X`` (default: accept)."""

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


class BandPass(_StatelessTransformer):
    """Zero-phase Butterworth band-pass along time (stateless).

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    l_freq, h_freq : float or None
        Pass band edges (Hz); None for a low-pass or high-pass only; both
        None for no filtering.
    order : int
        Butterworth order (applied forwards and backwards).
    """

    def __init__(
        self, sfreq: float = 100.0, l_freq: float | None = 8.0, h_freq: float | None = 30.0, order: int = 4
    ) -> None:
        self.sfreq = sfreq
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.order = order

    def _check(self, X: np.ndarray) -> None:
        nyquist = self.sfreq / 2
        for edge in (self.l_freq, self.h_freq):
            if edge is not None and not 0 < edge < nyquist:
                raise ValueError(f"band edges must be in (0, {nyquist}) Hz, got {self.l_freq}-{self.h_freq}.")
        if self.l_freq is not None and self.h_freq is not None and self.l_freq >= self.h_freq:
            raise ValueError(f"l_freq must be below h_freq, got {self.l_freq}-{self.h_freq} Hz.")

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Filter every channel of every epoch.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_channels, n_times)
            A filtered copy.
        """
        check_is_fitted(self, "n_features_in_")
        X = check_epochs(X)
        return _bandpass(X, self.sfreq, self.l_freq, self.h_freq, self.order)


def _bandpass(X: np.ndarray, sfreq: float, l_freq, h_freq, order: int) -> np.ndarray:
    """Zero-phase IIR filter with MNE (copy); identity when both edges are None."""
    if l_freq is None and h_freq is None:
        return X.copy()
    import mne

    return mne.filter.filter_data(
        X, sfreq, l_freq, h_freq, method="iir",
        iir_params=dict(order=order, ftype="butter", output="sos"), copy=True, verbose="error",
    )  # fmt: skip


class FilterBank(_StatelessTransformer):
    """Band-passed signals or amplitude envelopes in several bands (stateless).

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    bands : sequence of (float, float)
        Frequency bands (Hz), e.g. alpha ``(8, 12)`` and beta ``(13, 30)``.
    output : {'signal', 'envelope', 'log-envelope'}
        The band-passed signal, its Hilbert amplitude envelope, or the log of
        the envelope (variance-stabilising for amplitudes).
    order : int
        Butterworth order of each band-pass (zero-phase, forwards and
        backwards).

    Notes
    -----
    The output stacks the bands along the channel axis, band-major: channel
    ``b * n_channels + c`` is band ``b`` of input channel ``c``.
    """

    def __init__(
        self,
        sfreq: float = 100.0,
        bands: Sequence[tuple[float, float]] = ((8.0, 12.0), (13.0, 30.0)),
        output: str = "signal",
        order: int = 4,
    ) -> None:
        self.sfreq = sfreq
        self.bands = bands
        self.output = output
        self.order = order

    def _check(self, X: np.ndarray) -> None:
        outputs = ("signal", "envelope", "log-envelope")
        if self.output not in outputs:
            raise ValueError(f"output must be one of {outputs}, got {self.output!r}.")
        if len(self.bands) == 0:
            raise ValueError("bands must hold at least one (l_freq, h_freq) pair, got none.")
        for band in self.bands:
            BandPass(self.sfreq, *band, order=self.order).fit(X)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Filter (and take envelopes of) every band.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_bands * n_channels, n_times)
        """
        from scipy.signal import hilbert

        check_is_fitted(self, "n_features_in_")
        X = check_epochs(X)
        out = []
        for l_freq, h_freq in self.bands:
            band = _bandpass(X, self.sfreq, l_freq, h_freq, self.order)
            if self.output != "signal":
                band = np.abs(hilbert(band, axis=-1))
                if self.output == "log-envelope":
                    band = np.log(band + 1e-9 * max(float(band.max()), np.finfo(float).tiny))
            out.append(band)
        return np.concatenate(out, axis=1)


class BatchCovariances(_StatelessTransformer):
    """One covariance matrix per epoch, from an estimator that takes the whole batch.

    :class:`pyriemann.estimation.Covariances` calls a callable estimator
    once per epoch; with thousands of sliding imagine windows that loop cost
    more than the estimates (17,000 calls, 2.8 s of a csp-lda task). This
    transformer hands the ``(n_epochs, n_channels, n_times)`` array to the
    estimator in one call.

    Parameters
    ----------
    estimator : callable
        ``estimator(X) -> (n_epochs, n_channels, n_channels)`` for ``X`` of
        shape ``(n_epochs, n_channels, n_times)``, e.g.
        :func:`oas_covariance` (the default) or :func:`oas_second_moment`.
    """

    def __init__(self, estimator=oas_covariance) -> None:
        self.estimator = estimator

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Estimate the covariance of each epoch.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_channels, n_channels)
        """
        check_is_fitted(self, "n_features_in_")
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3-D (n_epochs, n_channels, n_times), got shape {X.shape}.")
        covs = np.asarray(self.estimator(X))
        if covs.shape != (len(X), X.shape[1], X.shape[1]):
            raise ValueError(
                f"estimator {self.estimator!r} returned shape {covs.shape} for a batch of shape "
                f"{X.shape}; expected {(len(X), X.shape[1], X.shape[1])}."
            )
        return covs


class ChannelBlock(_StatelessTransformer):
    """Keep one of ``n_blocks`` equal consecutive channel blocks (e.g. one band of a FilterBank).

    Parameters
    ----------
    block : int
        Index of the block kept, in ``0 .. n_blocks - 1``.
    n_blocks : int
        Number of equal blocks the channel axis is split into.
    """

    def __init__(self, block: int = 0, n_blocks: int = 1) -> None:
        self.block = block
        self.n_blocks = n_blocks

    def _check(self, X: np.ndarray) -> None:
        n_channels = np.shape(X)[1]
        if not 0 <= self.block < self.n_blocks or n_channels % self.n_blocks:
            raise ValueError(
                f"cannot take block {self.block} of {self.n_blocks} equal blocks from {n_channels} channels."
            )

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Channels of the block.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_channels // n_blocks, n_times)
        """
        check_is_fitted(self, "n_features_in_")
        size = self.n_features_in_ // self.n_blocks
        return np.asarray(X)[:, self.block * size : (self.block + 1) * size]


class WindowMean(_StatelessTransformer):
    """Average over time: (n_epochs, n_channels, n_times) -> (n_epochs, n_channels)."""

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Time average of each channel.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_channels)
        """
        check_is_fitted(self, "n_features_in_")
        return check_epochs(X).mean(axis=2)


# ----------------------------------------------------------------------------
# the decoder
# ----------------------------------------------------------------------------
class WindowScanDecoder(ClassifierMixin, BaseEstimator):
    """Classifier trained on a localizer window, scanned over imagery windows.

    Parameters
    ----------
    classifier : estimator
        scikit-learn classifier (typically a Pipeline) on 3-D windows
        ``(n_epochs, n_components, n_window_times)`` with ``decision_function``
        and ``predict_proba``; cloned at fit, its ``random_state`` parameters
        set to ``random_state``.
    preprocessor : transformer or None
        Applied to whole epochs before windows are cut (spatial reduction,
        temporal filters); fitted on the localizer epochs without labels.
        None: windows of the raw epochs.
    sfreq : float
        Sampling rate (Hz).
    localizer_tmin, imagine_tmin : float
        Time of the first sample of localizer and imagine epochs (s).
    windows : sequence of (float, float)
        Candidate localizer training windows ``(tmin, tmax)`` in s, all of the
        same length; with more than one, the best is chosen by inner
        cross-validation on the localizer.
    scan : tuple of float
        Imagine interval (s) covered by the sliding windows.
    stride : float
        Time between consecutive imagine windows (s).
    aggregate : {'mean', 'max'}
        How per-window evidence is combined (see :func:`aggregate_evidence`).
    n_splits : int
        Folds of the inner cross-validation choosing the window.
    random_state : int or None
        Seed of the inner cross-validation and of every nested estimator.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels, sorted.
    preprocessor_ : transformer or None
        Fitted preprocessor.
    classifier_ : estimator
        Classifier fitted on the chosen window.
    window_ : tuple of float
        Chosen training window (s).
    window_scores_ : ndarray, shape (n_candidates,)
        Inner-CV accuracy of each candidate window (NaN if only one).
    start_, length_ : int
        First sample and length (samples) of the training window.
    """

    def __init__(
        self,
        classifier=None,
        preprocessor=None,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        windows: Sequence[tuple[float, float]] = ((0.05, 0.6),),
        scan: tuple[float, float] = (0.0, 5.0),
        stride: float = 0.1,
        aggregate: str = "mean",
        n_splits: int = 3,
        random_state: int | None = None,
    ) -> None:
        self.classifier = classifier
        self.preprocessor = preprocessor
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.windows = windows
        self.scan = scan
        self.stride = stride
        self.aggregate = aggregate
        self.n_splits = n_splits
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _check_params(self) -> None:
        if self.classifier is None:
            raise ValueError(f"{type(self).__name__} needs a classifier, got None.")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {self.aggregate!r}.")
        if len(self.windows) == 0:
            raise ValueError("windows must hold at least one (tmin, tmax) candidate, got none.")
        if self.stride <= 0:
            raise ValueError(f"stride must be positive (s), got {self.stride}.")

    def _candidate_starts(self, n_times: int) -> tuple[np.ndarray, int]:
        """Start sample of each candidate window and their common length."""
        times = self.localizer_tmin + np.arange(n_times) / self.sfreq
        return training_windows(times, self.windows, self.sfreq)

    def fit(self, X: np.ndarray, y: np.ndarray) -> WindowScanDecoder:
        """Fit the preprocessor, choose the window, fit the classifier there.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs. Not modified.
        y : array-like of str, shape (n_epochs,)
            Item names.

        Returns
        -------
        self : WindowScanDecoder
        """
        self._check_params()
        X = check_epochs(X)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} epochs but y has {len(y)} labels.")
        self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        self.classes_ = np.unique(y)
        starts, self.length_ = self._candidate_starts(X.shape[2])
        self.preprocessor_ = None
        Z = X
        if self.preprocessor is not None:
            self.preprocessor_ = seed_estimator(clone(self.preprocessor), self.random_state)
            Z = self.preprocessor_.fit_transform(X)
        self.window_scores_ = np.full(len(starts), np.nan)
        best = 0
        if len(starts) > 1:
            min_count = int(np.bincount(np.unique(y, return_inverse=True)[1]).min())
            cv = StratifiedKFold(
                n_splits=max(2, min(self.n_splits, min_count)), shuffle=True, random_state=self.random_state
            )
            for k, start in enumerate(starts):
                model = seed_estimator(clone(self.classifier), self.random_state)
                crop = Z[:, :, start : start + self.length_]
                self.window_scores_[k] = cross_val_score(model, crop, y, cv=cv).mean()
            best = int(np.argmax(self.window_scores_))
        self.start_ = int(starts[best])
        self.window_ = tuple(float(t) for t in self.windows[best])
        self.classifier_ = seed_estimator(clone(self.classifier), self.random_state)
        self.classifier_.fit(Z[:, :, self.start_ : self.start_ + self.length_], y)
        return self

    # --------------------------------------------------------------- predict
    def _preprocess(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        X = check_epochs(X, self.n_channels_)
        return X if self.preprocessor_ is None else self.preprocessor_.transform(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs on the training window.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_localizer_times)

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        check_is_fitted(self, "classifier_")
        Z = self._preprocess(check_localizer_epochs(X, None, self.n_times_, keep_float32=True))
        return self.classifier_.predict_proba(Z[:, :, self.start_ : self.start_ + self.length_])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of localizer-format epochs."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def scan_decision(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decision values of every sliding imagine window.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            Imagine epochs.

        Returns
        -------
        decision : ndarray, shape (n_epochs, n_windows, n_classes)
        centres : ndarray, shape (n_windows,)
            Centre time (s) of each window.
        """
        Z = self._preprocess(X)
        times = self.imagine_tmin + np.arange(Z.shape[2]) / self.sfreq
        stride = max(1, int(round(self.stride * self.sfreq)))
        starts = window_starts(times, self.scan, self.length_, stride)
        return self._decide_windows(Z, starts), times[starts] + (self.length_ - 1) / (2 * self.sfreq)

    def _decide_windows(self, Z: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Classifier decision on each window; windows batched to bound memory."""
        n = Z.shape[0]
        view = np.lib.stride_tricks.sliding_window_view(Z, self.length_, axis=2)  # (n, c, t', L)
        per_chunk = max(1, int(2e7 // (n * Z.shape[1] * self.length_)))
        blocks = []
        for first in range(0, len(starts), per_chunk):
            chunk = starts[first : first + per_chunk]
            windows = view[:, :, chunk].transpose(2, 0, 1, 3).reshape(-1, Z.shape[1], self.length_)
            decision = np.asarray(self.classifier_.decision_function(windows))
            if decision.ndim == 1:  # binary scikit-learn classifiers
                decision = np.c_[-decision, decision] / 2
            blocks.append(decision.reshape(len(chunk), n, -1))
        return np.concatenate(blocks).transpose(1, 0, 2)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs from evidence over sliding windows.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            Imagine epochs (the whole batch of the subject: statistics over
            the batch normalise the evidence).

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        decision, _ = self.scan_decision(X)
        return softmax(aggregate_evidence(decision, self.aggregate), axis=1)
