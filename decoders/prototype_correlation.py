"""Correlation with localizer class prototypes, slid over imagery.

A template-matching decoder in the tradition of representational pattern
analysis (Haxby et al. 2001): each item's *prototype* is its mean localizer
pattern in a window around the latency of best decoding (chosen per subject
by an inner cross-validation of the same correlation classifier on the
localizer), after per-channel z-scoring and an optional PCA fitted on the
localizer, and a multivariate noise normalisation (whitening by the pooled
within-class covariance of the localizer, Guggenmos et al. 2018; estimated
once on the training epochs, so the inner CV that picks the latency sees it
fitted on all of them). Prototypes are centred across items (the response
common to all pictures carries no identity). Each imagine epoch is correlated with every
prototype at every imagine time, after the same moving average and the
removal of the batch's mean pattern at that time, so that a re-activation
is found whatever its latency (imagery re-activates perceptual codes late
and with jitter: Dijkstra et al. 2018). Optionally, a time-delay embedding
stacks a few lagged copies of the data, making the prototype a short
spatio-temporal trajectory rather than one topography (as in
time-delay-embedded models of MEG, Vidaurre et al. 2018). On imagine data
the batch's mean response (the word's evoked response) is removed from each
epoch with the epoch's own gain, fitted over ``common_gain_window`` (the
response's amplitude varies across trials). Fisher-transformed correlations
are z-scored per item over the imagine batch; each epoch's constant offset
(baseline correction leaves one noise vector under the whole epoch) is
removed per item, weighted away from the times where the batch carries
class information (``remove_offsets``:
:func:`decoders.toolkit.evidence.remove_epoch_offsets`), and the evidence
pooled over 0-5 s. Optionally (``imagine_whiten``) the noise normalisation
is re-estimated on the imagine batch itself; off by default: estimated on
the same epochs it whitens, it removes each epoch's time-averaged pattern,
imagery included, which leaves the true item's evidence negative outside
the imagery and the pooled evidence weaker.

References
----------
Haxby, J. V., Gobbini, M. I., Furey, M. L., Ishai, A., Schouten, J. L., &
Pietrini, P. (2001). Distributed and overlapping representations of faces
and objects in ventral temporal cortex. Science, 293(5539), 2425-2430.

Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.

Guggenmos, M., Sterzer, P., & Cichy, R. M. (2018). Multivariate pattern
analysis for MEG: a comparison of dissimilarity measures. NeuroImage, 173,
434-447.

Vidaurre, D., Abeysuriya, R., Becker, R., Quinn, A. J., Alfaro-Almagro, F.,
Smith, S. M., & Woolrich, M. W. (2018). Discovering dynamic brain networks
from big data in rest and task. NeuroImage, 180, 646-656.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderSpec
from decoders.toolkit.evidence import remove_epoch_offsets, zscore_over_batch
from decoders.toolkit.model_selection import make_inner_cv
from decoders.toolkit.scan import ContextFactory, ImagineClassifierMixin, LocalizerProjectionMixin
from decoders.toolkit.times import time_mask
from decoders.toolkit.validation import check_epochs, check_localizer_epochs

_MAX_R = 1.0 - 1e-7


def _normalise(patterns: np.ndarray) -> np.ndarray:
    """Centre and unit-normalise the last axis (Pearson correlation = dot product)."""
    centred = patterns - patterns.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    return centred / np.where(norm > 0, norm, 1.0)


def correlate(features: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Pearson correlation of every feature vector with every prototype.

    Parameters
    ----------
    features : ndarray, shape (..., n_features)
        Patterns to classify.
    prototypes : ndarray, shape (n_classes, n_features)
        One pattern per class.

    Returns
    -------
    ndarray, shape (..., n_classes)
        Correlations in [-1, 1].
    """
    return _normalise(features) @ _normalise(prototypes).T


def fisher_z(r: np.ndarray) -> np.ndarray:
    """Fisher transform of correlations, clipped away from +-1."""
    return np.arctanh(np.clip(r, -_MAX_R, _MAX_R))


def inverse_sqrt_ledoit_wolf(samples: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root of the Ledoit-Wolf covariance of zero-mean samples.

    Parameters
    ----------
    samples : ndarray, shape (n_samples, n_features)
        Zero-mean noise samples.

    Returns
    -------
    ndarray, shape (n_features, n_features)
        ``W`` with ``W C W = I`` for the shrunk covariance ``C``.
    """
    from sklearn.covariance import ledoit_wolf

    cov = ledoit_wolf(samples, assume_centered=True)[0]
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.maximum(eigval, eigval.max() * 1e-10)
    return (eigvec / np.sqrt(eigval)) @ eigvec.T


def noise_whitener(Z: np.ndarray, y_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Multivariate noise normalisation: inverse square root of the noise covariance.

    The noise is each epoch's deviation from its class mean at the same time
    point, pooled over all times (Guggenmos et al. 2018), with Ledoit-Wolf
    shrinkage.

    Parameters
    ----------
    Z : ndarray, shape (n_epochs, n_features, n_times)
        Projected localizer epochs.
    y_index : ndarray of int, shape (n_epochs,)
        Class index of each epoch in ``range(n_classes)``.
    n_classes : int
        Number of classes.

    Returns
    -------
    ndarray, shape (n_features, n_features)
        Symmetric whitening matrix ``W``; ``W @ Z[i]`` has about unit noise
        covariance.
    """
    means = np.stack([Z[y_index == k].mean(axis=0) for k in range(n_classes)])  # (K, p, t)
    residuals = (Z - means[y_index]).transpose(0, 2, 1).reshape(-1, Z.shape[1])
    return inverse_sqrt_ledoit_wolf(residuals)


def prototype_cv_curve(Z: np.ndarray, y_index: np.ndarray, n_classes: int, cv) -> np.ndarray:
    """Cross-validated accuracy of the prototype-correlation classifier over time.

    At each time point, the class means of the training folds (centred
    across classes) are correlated with the test epochs' patterns (centred
    on the training grand mean); the highest correlation wins.

    Parameters
    ----------
    Z : ndarray, shape (n_epochs, n_features, n_times)
        Projected, smoothed localizer epochs.
    y_index : ndarray of int, shape (n_epochs,)
        Class index of each epoch in ``range(n_classes)``.
    n_classes : int
        Number of classes.
    cv : scikit-learn splitter
        Stratified splitter for the folds.

    Returns
    -------
    ndarray, shape (n_times,)
        Accuracy averaged over folds.
    """
    Zt = np.ascontiguousarray(Z.transpose(2, 0, 1))  # (t, n, p)
    scores = []
    for train, test in cv.split(Z[:, 0, 0], y_index):
        one_hot = np.zeros((n_classes, len(train)))
        one_hot[y_index[train], np.arange(len(train))] = 1.0
        one_hot /= np.maximum(one_hot.sum(axis=1, keepdims=True), 1.0)
        means = one_hot @ Zt[:, train]  # (t, K, p)
        grand = means.mean(axis=1, keepdims=True)
        r = _normalise(Zt[:, test] - grand) @ _normalise(means - grand).transpose(0, 2, 1)
        scores.append((r.argmax(axis=2) == y_index[test]).mean(axis=1))
    return np.mean(scores, axis=0)


class PrototypeCorrelation(LocalizerProjectionMixin, ImagineClassifierMixin, BaseEstimator):
    """Correlate epochs with localizer class prototypes at every latency.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin, search, half_window, n_components, scan, n_splits, random_state
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    whiten : bool
        Multivariate noise normalisation of the features (inverse square root
        of the pooled within-class covariance of the localizer) before the
        correlations, so that high-variance noise components do not dominate
        them.
    imagine_whiten : bool
        On imagine data, replace the localizer's noise normalisation by one
        estimated on the imagine batch without labels (the Ledoit-Wolf
        covariance of each epoch's deviation from the batch mean at the same
        time, over ``scan``), applied to the data and to the prototypes alike.
        Needs ``whiten``.
    common_gain_window : tuple of float or None
        Imagine interval (s) over which each epoch's gain on the batch's mean
        response is fitted (least squares) before that response is removed
        (None: removed with gain 1).
    remove_offsets : bool
        Remove each epoch's constant evidence offset per item
        (:func:`decoders.toolkit.evidence.remove_epoch_offsets`) before pooling.
    n_lags : int
        Copies of the data stacked in the time-delay embedding (1: no
        embedding, the prototype is one topography).
    lag_step : float
        Delay (s) between consecutive embedded copies.

    Attributes
    ----------
    classes_, projection_, n_times_
        See *Attributes* of :class:`decoders.toolkit.scan.LocalizerProjectionMixin`.
    whitener_ : ndarray, shape (n_features, n_features) or None
        Noise-normalisation matrix (None if ``whiten`` is False).
    cv_curve_ : ndarray, shape (n_localizer_times,)
        Inner-CV accuracy of the correlation classifier at each time.
    peak_index_ : int
        Localizer sample the prototypes are centred on.
    peak_time_ : float
        Its latency (s).
    prototypes_ : ndarray, shape (n_classes, n_features * n_lags)
        Class prototypes, centred across classes.
    center_ : ndarray, shape (n_features * n_lags,)
        Mean localizer pattern (over classes) removed from localizer epochs.
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        search: tuple[float, float] = (0.05, 0.6),
        half_window: float = 0.05,
        n_components: int | str | None = "rank",
        whiten: bool = True,
        imagine_whiten: bool = False,
        common_gain_window: tuple[float, float] | None = (-0.2, 1.0),
        remove_offsets: bool = True,
        n_lags: int = 1,
        lag_step: float = 0.05,
        scan: tuple[float, float] = (0.0, 5.0),
        n_splits: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.search = search
        self.half_window = half_window
        self.n_components = n_components
        self.whiten = whiten
        self.imagine_whiten = imagine_whiten
        self.common_gain_window = common_gain_window
        self.remove_offsets = remove_offsets
        self.n_lags = n_lags
        self.lag_step = lag_step
        self.scan = scan
        self.n_splits = n_splits
        self.random_state = random_state

    # -------------------------------------------------------------- helpers
    def _lags(self) -> np.ndarray:
        if int(self.n_lags) < 1:
            raise ValueError(f"n_lags must be >= 1, got {self.n_lags}.")
        step = max(1, int(round(self.lag_step * self.sfreq)))
        return np.arange(int(self.n_lags)) * step

    def _smoothed(self, X: np.ndarray) -> np.ndarray:
        """Projected, smoothed and (if fitted with ``whiten``) noise-normalised features."""
        Z = self._projected(X)
        if getattr(self, "whitener_", None) is not None:
            Z = np.matmul(self.whitener_, Z)
        return Z

    def _without_common(self, Z: np.ndarray) -> np.ndarray:
        """``Z`` minus the batch's mean response, scaled per epoch by its gain (``common_gain_window``)."""
        mean = Z.mean(axis=0)
        if self.common_gain_window is None:
            return Z - mean
        window = time_mask(
            self.imagine_tmin, self.sfreq, Z.shape[2], self.common_gain_window, "common_gain_window"
        )
        energy = np.sum(mean[:, window] ** 2)
        gains = np.ones(len(Z))
        if energy > 0:
            gains = np.einsum("npt,pt->n", Z[:, :, window], mean[:, window]) / energy
        return Z - gains[:, None, None] * mean

    def _embed(self, Z: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Time-delay embedded patterns at samples ``index``: (n, len(index), p * n_lags)."""
        lagged = np.clip(index[:, None] + self._lags()[None, :], 0, Z.shape[2] - 1)  # (m, L)
        emb = Z[:, :, lagged]  # (n, p, m, L)
        return emb.transpose(0, 2, 3, 1).reshape(Z.shape[0], len(index), -1)

    # ------------------------------------------------------------------ fit
    def fit(self, X: np.ndarray, y: np.ndarray) -> PrototypeCorrelation:
        """Choose the prototype latency by inner CV and build the prototypes.

        ``X``: localizer epochs (n_epochs, n_channels, n_times), not modified; ``y``: item names.
        """
        self.whitener_ = None
        Z, y, classes = self._fit_projection(X, y)
        y_index = np.searchsorted(classes, y)
        if self.whiten:
            self.whitener_ = noise_whitener(Z, y_index, len(classes))
            Z = np.matmul(self.whitener_, Z)
        cv = make_inner_cv(y, self.n_splits, self.random_state)
        self._set_peak(prototype_cv_curve(Z, y_index, len(classes), cv))
        patterns = self._embed(Z, np.array([self.peak_index_]))[:, 0]  # (n, p * L)
        means = np.stack([patterns[y_index == k].mean(axis=0) for k in range(len(classes))])
        self.center_ = means.mean(axis=0)
        self.prototypes_ = means - self.center_
        return self

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs at the prototype latency.

        Logits are Fisher-transformed correlations times ``sqrt(n - 3)``
        (``n`` the pattern length), their null standard deviation's inverse.
        """
        check_is_fitted(self, "prototypes_")
        X = check_localizer_epochs(X, self.projection_.n_channels_, self.n_times_)
        patterns = self._embed(self._smoothed(X), np.array([self.peak_index_]))[:, 0] - self.center_
        z = fisher_z(correlate(patterns, self.prototypes_))
        return softmax(z * np.sqrt(max(patterns.shape[1] - 3, 1)), axis=1)

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Fisher-z correlation with each prototype at every imagine time.

        The batch's mean response is removed first (with each epoch's gain,
        ``common_gain_window``); values are z-scored per class over the
        batch's epochs and ``scan`` times, and (``remove_offsets``) each
        epoch's constant offset per class is removed.
        """
        check_is_fitted(self, "prototypes_")
        X = check_epochs(X, self.projection_.n_channels_)
        scan = time_mask(self.imagine_tmin, self.sfreq, X.shape[2], self.scan, "scan")
        prototypes = self.prototypes_
        if self.imagine_whiten and self.whitener_ is not None:
            Z = self._without_common(self._projected(X))
            whitener = inverse_sqrt_ledoit_wolf(Z[:, :, scan].transpose(0, 2, 1).reshape(-1, Z.shape[1]))
            Z = np.matmul(whitener, Z)
            # prototypes back to the projected space, then into the imagine batch's whitened one
            lagged = prototypes.reshape(len(prototypes), -1, Z.shape[1])  # (K, L, p)
            unwhitened = np.linalg.solve(self.whitener_, lagged.reshape(-1, Z.shape[1]).T)
            prototypes = (whitener @ unwhitened).T.reshape(prototypes.shape)
        else:
            Z = self._without_common(self._smoothed(X))
        patterns = self._embed(Z, np.arange(Z.shape[2]))  # (n, t, p * L)
        z = fisher_z(correlate(patterns, prototypes))
        z = zscore_over_batch(z, (0, 1), reference=z[:, scan])
        return remove_epoch_offsets(z, scan) if self.remove_offsets else z


DECODER = DecoderSpec(
    name="prototype-correlation",
    family="template",
    description="Localizer class prototypes at the inner-CV peak, correlated with every imagine window; "
    "each epoch's word response and constant offset removed without labels.",
    factory=ContextFactory(PrototypeCorrelation),
    reference="Haxby et al. 2001, Science; Dijkstra et al. 2018, eLife",
)
