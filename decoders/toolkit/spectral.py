"""Spectral building blocks on 3-D epochs: band-pass filters and filter banks.

Zero-phase Butterworth filters computed on whole epochs (before any window
is cut out, so that windows carry no filter edge effects):
:class:`BandPass`, :class:`FilterBank` (signals or Hilbert amplitude
envelopes) and :class:`ChannelBlock`, which picks one band of a bank.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from decoders.toolkit.spatial import channel_scatter, inverse_sqrtm
from decoders.toolkit.validation import StatelessTransformer


class BandPass(StatelessTransformer):
    """Zero-phase Butterworth band-pass along time (stateless): a filtered copy, same shape.

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

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return _bandpass(X, self.sfreq, self.l_freq, self.h_freq, self.order)


def _bandpass(X: np.ndarray, sfreq: float, l_freq, h_freq, order: int) -> np.ndarray:
    """Zero-phase Butterworth filter of the last axis (a float64 copy); identity when both edges are None.

    The filter MNE's ``filter_data(method="iir")`` designs (same second-order
    sections, same padding length), applied by one
    :func:`scipy.signal.sosfiltfilt` call on the whole array, without MNE's
    per-call design, checks and copies. Equal to MNE's output to float
    precision (``tests/test_toolkit_blocks.py``).
    """
    X = np.asarray(X, dtype=np.float64)
    if l_freq is None and h_freq is None:
        return X.copy()
    from scipy.signal import sosfiltfilt

    sos, padlen = iir_design(float(sfreq), l_freq, h_freq, int(order))
    sos = sos.copy()  # scipy's Cython kernel refuses the cached, read-only array
    # MNE pads with an odd ("reflect_limited") extension of at most n_times - 1 samples
    return sosfiltfilt(sos, X, axis=-1, padtype="odd", padlen=min(padlen, X.shape[-1] - 1))


@functools.lru_cache(maxsize=32)
def iir_design(
    sfreq: float, l_freq: float | None, h_freq: float | None, order: int
) -> tuple[np.ndarray, int]:
    """Second-order sections and padding length of MNE's zero-phase Butterworth filter.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    l_freq, h_freq : float or None
        Band edges (Hz), as in :func:`mne.filter.filter_data`.
    order : int
        Butterworth order.

    Returns
    -------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections (cached: read-only, copy before use).
    padlen : int
        Samples MNE pads on each side (its estimate of the ringing length).
    """
    import mne

    params = mne.filter.create_filter(
        None, sfreq, l_freq, h_freq, method="iir",
        iir_params=dict(order=order, ftype="butter", output="sos"), verbose="error",
    )  # fmt: skip
    sos = np.asarray(params["sos"], dtype=np.float64)
    sos.flags.writeable = False
    return sos, int(params["padlen"])


def bandpass_bank_fft(X: np.ndarray, sfreq: float, bands, order: int = 4):
    """Zero-phase Butterworth band-passes of the last axis, in the frequency domain, one band at a time.

    Each epoch is odd-extended at both ends by ``n_times - 1`` samples (as
    ``sosfiltfilt`` pads), zero-padded to a power of two and transformed
    once; each band multiplies the transform by ``|H(f)|**2`` of MNE's
    Butterworth design (:func:`iir_design`), the response of a forward and
    backward pass, and transforms back.

    Parameters
    ----------
    X : ndarray, shape (..., n_times)
        Signals.
    sfreq : float
        Sampling rate (Hz).
    bands : sequence of (float or None, float or None)
        Band edges (Hz).
    order : int
        Butterworth order.

    Yields
    ------
    ndarray, shape (..., n_times)
        The band-passed signals (float64), band after band.
    """
    X = np.asarray(X, dtype=np.float64)
    n_times = X.shape[-1]
    padded, pad, n_fft = _odd_extension(X)
    spectrum = np.fft.rfft(padded, n=n_fft, axis=-1)
    for gain in _band_gains(sfreq, bands, order, n_fft):
        if gain is None:
            yield X.copy()
            continue
        yield np.fft.irfft(spectrum * gain, n=n_fft, axis=-1)[..., pad : pad + n_times]


def _odd_extension(X: np.ndarray) -> tuple[np.ndarray, int, int]:
    """``X`` odd-extended by ``n_times - 1`` samples at both ends, the pad, and the FFT length."""
    n_times = X.shape[-1]
    pad = max(n_times - 1, 0)
    if pad:
        left = 2 * X[..., :1] - X[..., pad:0:-1]
        right = 2 * X[..., -1:] - X[..., -2 : -pad - 2 : -1]
        X = np.concatenate([left, X, right], axis=-1)
    return X, pad, int(2 ** np.ceil(np.log2(X.shape[-1])))


def _band_gains(sfreq: float, bands, order: int, n_fft: int) -> list[np.ndarray | None]:
    """``|H(f)|**2`` of each band's Butterworth on the rfft grid (None: no filtering)."""
    from scipy.signal import sosfreqz

    gains = []
    for l_freq, h_freq in bands:
        if l_freq is None and h_freq is None:
            gains.append(None)
            continue
        sos, _ = iir_design(float(sfreq), l_freq, h_freq, int(order))
        _, response = sosfreqz(sos, worN=n_fft // 2 + 1, whole=False)
        gains.append(np.abs(response) ** 2)
    return gains


#: Epochs filtered at a time by :func:`filter_bank_fft` (bounds its temporary arrays).
_CHUNK_EPOCHS = 16


def filter_bank_fft(X: np.ndarray, sfreq: float, bands, order: int = 4, output: str = "signal") -> np.ndarray:
    """:func:`bandpass_bank_fft` of every band, stacked band-major along the channels, a few epochs at a time.

    The same numbers as stacking :func:`bandpass_bank_fft`'s bands (each
    epoch's transform does not depend on the others), written into one
    output array: the temporaries (padded epochs, spectrum, one band) are
    those of :data:`_CHUNK_EPOCHS` epochs, not of the whole batch, so memory
    stays small and warm (on a new machine, touching fresh memory cost more
    than the transforms).

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Signals.
    sfreq : float
        Sampling rate (Hz).
    bands : sequence of (float or None, float or None)
        Band edges (Hz).
    order : int
        Butterworth order.
    output : {'signal', 'envelope', 'log-envelope'}
        As :class:`FilterBank`'s; the log floor is taken per band over all
        epochs, as there.

    Returns
    -------
    ndarray, shape (n_epochs, n_bands * n_channels, n_times)
    """
    X = np.asarray(X, dtype=np.float64)
    n_epochs, n_channels, n_times = X.shape
    out = np.empty((n_epochs, len(bands) * n_channels, n_times))
    for start in range(0, n_epochs, _CHUNK_EPOCHS):
        chunk = X[start : start + _CHUNK_EPOCHS]
        for b, band in enumerate(bandpass_bank_fft(chunk, sfreq, bands, order)):
            out[start : start + len(chunk), b * n_channels : (b + 1) * n_channels] = _amplitude(band, output)
    return _log_floored(out, len(bands), output)


def _amplitude(band: np.ndarray, output: str) -> np.ndarray:
    """Return a band-passed signal as ``output`` asks: the signal, or its Hilbert amplitude envelope."""
    from scipy.signal import hilbert

    return band if output == "signal" else np.abs(hilbert(band, axis=-1))


def _log_floored(out: np.ndarray, n_bands: int, output: str) -> np.ndarray:
    """For ``'log-envelope'``, the log of each band block in place, floored at 1e-9 of the band's maximum."""
    if output == "log-envelope":
        size = out.shape[1] // n_bands
        for b in range(n_bands):
            block = out[:, b * size : (b + 1) * size]
            np.log(block + 1e-9 * max(float(block.max()), np.finfo(float).tiny), out=block)
    return out


class FilterBank(StatelessTransformer):
    """Band-passed signals or amplitude envelopes in several bands (stateless).

    ``(n_epochs, n_channels, n_times) -> (n_epochs, n_bands * n_channels, n_times)``.

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
    method : {'iir', 'fft'}
        ``'iir'``: :func:`scipy.signal.sosfiltfilt` per band (MNE's filter).
        ``'fft'``: the same zero-phase magnitude response ``|H(f)|**2``
        applied in the frequency domain to one odd-extended, zero-padded
        transform shared by every band (:func:`bandpass_bank_fft`); equal
        to ``'iir'`` away from the epoch's edges, several times faster for
        many bands.

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
        method: str = "iir",
    ) -> None:
        self.sfreq = sfreq
        self.bands = bands
        self.output = output
        self.order = order
        self.method = method

    def _check(self, X: np.ndarray) -> None:
        outputs = ("signal", "envelope", "log-envelope")
        if self.output not in outputs:
            raise ValueError(f"output must be one of {outputs}, got {self.output!r}.")
        if len(self.bands) == 0:
            raise ValueError("bands must hold at least one (l_freq, h_freq) pair, got none.")
        for band in self.bands:
            BandPass(self.sfreq, *band, order=self.order).fit(X)
        if self.method not in ("iir", "fft"):
            raise ValueError(f"method must be 'iir' or 'fft', got {self.method!r}.")

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self.method == "fft":
            return filter_bank_fft(X, self.sfreq, self.bands, self.order, self.output)
        out = [_amplitude(_bandpass(X, self.sfreq, lo, hi, self.order), self.output) for lo, hi in self.bands]
        return _log_floored(np.concatenate(out, axis=1), len(self.bands), self.output)


class ChannelBlock(StatelessTransformer):
    """Keep one of ``n_blocks`` equal consecutive channel blocks (e.g. one band of a FilterBank).

    ``(n_epochs, n_channels, n_times) -> (n_epochs, n_channels // n_blocks, n_times)``.

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

    def _check_input(self, X) -> np.ndarray:
        return np.asarray(X)  # a slice of checked FilterBank output: no copy, no second check

    def _transform(self, X: np.ndarray) -> np.ndarray:
        size = self.n_features_in_ // self.n_blocks
        return X[:, self.block * size : (self.block + 1) * size]


class BlockWhitening(TransformerMixin, BaseEstimator):
    """Whiten each of ``n_blocks`` channel blocks by its covariance over all epochs and times (label-free).

    ``(n_epochs, n_channels, n_times) -> (n_epochs, n_channels, n_times)``.
    For each block (a band of a :class:`FilterBank`), the covariance pooled
    over every sample of every training epoch, shrunk by ``reg`` towards its
    scaled identity; the block is multiplied by its inverse square root. No
    label is used: the background (1/f noise, spontaneous alpha, artefacts)
    of the band becomes the identity, so that covariance estimates shrunk
    towards the identity afterwards (OAS) shrink towards the band's noise,
    and a class topography stands out against it rather than against the
    sensors' raw power.

    Parameters
    ----------
    n_blocks : int
        Equal consecutive channel blocks (bands).
    reg : float
        Shrinkage of each block covariance towards its scaled identity.

    Attributes
    ----------
    whiteners_ : ndarray, shape (n_blocks, block_size, block_size)
        Symmetric inverse square roots.
    """

    def __init__(self, n_blocks: int = 1, reg: float = 1e-3) -> None:
        self.n_blocks = n_blocks
        self.reg = reg

    def fit(self, X: np.ndarray, y=None) -> BlockWhitening:
        """Estimate each block's covariance on epochs ``X`` (y is ignored)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[1] % self.n_blocks:
            raise ValueError(f"cannot split shape {X.shape} into {self.n_blocks} equal channel blocks.")
        if not 0.0 <= self.reg < 1.0:
            raise ValueError(f"reg must be in [0, 1), got {self.reg}.")
        size, n_samples = X.shape[1] // self.n_blocks, X.shape[0] * X.shape[2]
        self.whiteners_ = np.stack(
            [
                inverse_sqrtm(channel_scatter(X[:, b * size : (b + 1) * size]) / n_samples, reg=self.reg)
                for b in range(self.n_blocks)
            ]
        )
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Whitened epochs, same shape as ``X``."""
        check_is_fitted(self, "whiteners_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}, n_times), got {X.shape}.")
        size = X.shape[1] // self.n_blocks
        out = np.empty_like(X)
        for b, whitener in enumerate(self.whiteners_):  # into place: no transposed copy of the batch
            block = slice(b * size, (b + 1) * size)
            np.matmul(whitener, X[:, block], out=out[:, block])
        return out


def chosen_band_only(preprocessor, classifier):
    """Return the fitted front end and classifier of a :func:`best_band` scan that compute only its band.

    A :func:`best_band` classifier reads one band of its input (its
    ``ChannelBlock``); the front end (``... -> FilterBank [-> BlockWhitening]``)
    computes every band. For prediction, the same numbers come from a front end
    whose filter bank has the chosen band only (and that band's whitener) and
    the best pipeline without its ``ChannelBlock``: each band is filtered,
    enveloped and whitened on its own, so nothing else changes.

    Parameters
    ----------
    preprocessor : Pipeline or None
        The fitted front end.
    classifier : estimator
        The fitted classifier.

    Returns
    -------
    (Pipeline, Pipeline) or None
        The narrowed front end and classifier, or None when the pair is not a
        fitted ``FilterBank`` front end with a :func:`best_band` classifier of
        as many blocks as bands (then the pair is used as it is).
    """
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    if not (isinstance(preprocessor, Pipeline) and isinstance(classifier, GridSearchCV)):
        return None
    best = getattr(classifier, "best_estimator_", None)
    if not (isinstance(best, Pipeline) and isinstance(best.steps[0][1], ChannelBlock)) or len(best.steps) < 2:
        return None
    block, steps = best.steps[0][1], list(preprocessor.steps)
    white_name, whitening = steps.pop() if isinstance(steps[-1][1], BlockWhitening) else ("", None)
    name, bank = steps[-1]
    if not isinstance(bank, FilterBank) or len(bank.bands) != block.n_blocks:
        return None
    if whitening is not None and whitening.n_blocks != block.n_blocks:
        return None
    one = clone(bank).set_params(bands=[bank.bands[block.block]])
    one.n_features_in_ = bank.n_features_in_  # stateless: what fit would record
    front = [*steps[:-1], (name, one)]
    if whitening is not None:
        single = clone(whitening).set_params(n_blocks=1)
        single.whiteners_ = whitening.whiteners_[block.block : block.block + 1]
        single.n_features_in_ = whitening.n_features_in_ // whitening.n_blocks
        front.append((white_name, single))
    return Pipeline(front), Pipeline(best.steps[1:])


def per_band(n_bands: int, *steps):
    """Apply the same steps to each band of a ``FilterBank(output='signal')``, features side by side.

    Parameters
    ----------
    n_bands : int
        Bands of the filter bank (equal channel blocks of its output).
    *steps : estimators
        Unfitted steps (e.g. covariances then CSP); each band gets clones.

    Returns
    -------
    sklearn.pipeline.FeatureUnion
        ``band{k}``: ``make_pipeline(ChannelBlock(k, n_bands), *clones of steps)``.
    """
    from sklearn.base import clone
    from sklearn.pipeline import FeatureUnion, make_pipeline

    return FeatureUnion(
        [(f"band{k}", make_pipeline(ChannelBlock(k, n_bands), *map(clone, steps))) for k in range(n_bands)]
    )


#: Narrow, overlapping bands from alpha to beta (Hz): the band of a power decoder is chosen among
#: them by inner cross-validation on the localizer (:func:`best_band`), since the frequency of
#: induced activity varies between subjects.
ALPHA_BETA_BANDS: tuple[tuple[float, float], ...] = (
    (7.0, 10.0), (9.0, 12.0), (12.0, 16.0), (15.0, 20.0), (19.0, 25.0), (24.0, 30.0),
)  # fmt: skip


def best_band(n_bands: int, *steps, n_splits: int = 3, random_state: int | None = None):
    """Apply steps to one band of a ``FilterBank``, the band chosen by inner CV on the localizer.

    Parameters
    ----------
    n_bands : int
        Bands of the filter bank (equal channel blocks of its output).
    *steps : estimators
        Unfitted steps ending in a classifier (e.g. covariances, CSP, LDA).
    n_splits : int
        Folds of the stratified inner cross-validation on the localizer.
    random_state : int or None
        Seed of the folds' shuffle.

    Returns
    -------
    sklearn.model_selection.GridSearchCV
        Over ``channelblock__block`` in ``0 .. n_bands - 1``; refitted on all
        epochs with the best band; ``best_params_`` names it.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline

    cv = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return GridSearchCV(
        make_pipeline(ChannelBlock(0, n_bands), *steps),
        {"channelblock__block": list(range(n_bands))},
        cv=cv,
        error_score="raise",
    )
