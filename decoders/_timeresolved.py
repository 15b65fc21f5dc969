"""Building blocks shared by the time-resolved, template and transductive decoders.

Private helpers of ``sliding-ensemble``, ``temporal-generalization``,
``prototype-correlation``, ``self-training`` and ``logreg-l1-null``:

- :class:`ChannelProjection`: per-channel z-scoring (statistics over the
  localizer's epochs and times, which also puts magnetometers and
  gradiometers on one scale) followed by an optional PCA fitted on the
  localizer only (tSSS leaves the 306 channels with rank ~70), applied to
  3-D epochs with a single matrix product;
- :func:`time_mask`, :func:`moving_average`, :func:`make_inner_cv`: time axes
  and the inner cross-validation, from facts the data knows;
- the aggregation of :mod:`decoders._evidence` (shared with `_peak` and
  `_windows`) that proved necessary for localizer-to-imagery transfer (each class's
  decision values z-scored over the imagine batch, which removes the class
  offsets a localizer-trained classifier shows on imagery, then averaged
  over time);
- :func:`accuracy_weights`: training-time weights from a cross-validated
  accuracy curve, zero at or below chance;
- :func:`balanced_assignment`: Hungarian labelling of a batch with (nearly)
  equal counts per class;
- :class:`GeneralizationEnsemble`: the shared engine of the two
  generalisation decoders (one shrinkage LDA per training time, applied at
  every imagine time, ensembled with per-training-time weights).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from decoders._evidence import scanned_proba, zscore_over_batch
from decoders._validation import check_epochs, check_localizer_epochs

if TYPE_CHECKING:
    from sklearn.model_selection import StratifiedKFold

__all__ = [
    "ChannelProjection",
    "GeneralizationEnsemble",
    "accuracy_weights",
    "balanced_assignment",
    "make_inner_cv",
    "moving_average",
    "time_mask",
    "window_width",
]


# Heavy modules (scipy.ndimage, scipy.optimize, sklearn.model_selection,
# decoders._peak and its PCA) are imported where used: the registry imports
# every decoder file, and these helpers are imported by them at module level.


# ----------------------------------------------------------------------------
# time axes and cross-validation
# ----------------------------------------------------------------------------
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
    tmin : float
        Time of the first sample (s).
    sfreq : float
        Sampling rate (Hz).
    n_times : int
        Number of samples.
    interval : tuple of (float or None) or None
        ``(start, stop)`` in seconds; None (or a None bound) means no limit.
    what : str
        Name of the parameter, for the error message.

    Returns
    -------
    ndarray of bool, shape (n_times,)

    Raises
    ------
    ValueError
        If the interval holds no sample.
    """
    times = sample_times(tmin, sfreq, n_times)
    if interval is None:
        return np.ones(n_times, dtype=bool)
    start, stop = interval
    # Half a sample of tolerance, so that 0.6 s includes the sample at 0.6 s.
    tol = 0.5 / sfreq
    mask = np.ones(n_times, dtype=bool)
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


def make_inner_cv(y: np.ndarray, n_splits: int, random_state: int | None) -> StratifiedKFold:
    """Shuffled stratified K-fold with at most as many folds as the rarest class allows.

    Parameters
    ----------
    y : ndarray, shape (n_epochs,)
        Labels.
    n_splits : int
        Wanted number of folds (>= 2).
    random_state : int or None
        Seed of the shuffling.

    Returns
    -------
    StratifiedKFold

    Raises
    ------
    ValueError
        If ``n_splits`` < 2 or a class has fewer than 2 epochs.
    """
    from sklearn.model_selection import StratifiedKFold

    if n_splits < 2:
        raise ValueError(f"n_splits must be >= 2, got {n_splits}.")
    min_count = int(np.bincount(np.unique(y, return_inverse=True)[1]).min())
    if min_count < 2:
        raise ValueError(
            f"Inner cross-validation needs at least 2 epochs per class; the rarest class has {min_count}."
        )
    return StratifiedKFold(n_splits=min(n_splits, min_count), shuffle=True, random_state=random_state)


def check_labels(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(y, classes)`` after checking one label per epoch and >= 2 classes."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must hold one label per epoch: X has {len(X)} epochs, y has shape {y.shape}.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"Decoding needs at least 2 classes, got {classes.tolist()}.")
    return y, classes


# ----------------------------------------------------------------------------
# channel projection
# ----------------------------------------------------------------------------
class ChannelProjection(TransformerMixin, BaseEstimator):
    """Per-channel z-scoring then optional PCA, on 3-D epochs.

    Parameters
    ----------
    n_components : int or None
        PCA components kept (capped by the number of channels); None skips
        the PCA and only z-scores.
    random_state : int or None
        Passed to :class:`sklearn.decomposition.PCA`.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_channels,)
        Channel means and standard deviations over epochs and times (1 for
        flat channels).
    weights_ : ndarray, shape (n_channels, n_features)
        Linear map from raw channels to output features.
    offset_ : ndarray, shape (n_features,)
        Subtracted after the linear map.
    n_channels_ : int
        Channels seen at fit.
    """

    def __init__(self, n_components: int | None = 60, random_state: int | None = None) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> ChannelProjection:
        """Learn channel statistics and the PCA from ``X``.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs; not modified.
        y : None
            Ignored.

        Returns
        -------
        self : ChannelProjection
        """
        X = check_epochs(X)
        n_channels = X.shape[1]
        self.n_channels_ = n_channels
        self.mean_ = X.mean(axis=(0, 2))
        scale = X.std(axis=(0, 2))
        scale[scale == 0] = 1.0
        self.scale_ = scale
        if self.n_components is None:
            self.weights_ = np.diag(1.0 / scale)
            self.offset_ = self.mean_ / scale
            return self
        from sklearn.decomposition import PCA

        if self.n_components < 1:
            raise ValueError(f"n_components must be a positive int or None, got {self.n_components}.")
        flat = ((X - self.mean_[:, None]) / scale[:, None]).transpose(0, 2, 1).reshape(-1, n_channels)
        n_comp = int(min(self.n_components, n_channels, flat.shape[0]))
        pca = PCA(n_components=n_comp, random_state=self.random_state).fit(flat)
        self.weights_ = pca.components_.T / scale[:, None]
        self.offset_ = (self.mean_ / scale + pca.mean_) @ pca.components_.T
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project epochs: (n, n_channels, t) -> (n, n_features, t), float64.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs of any length; not modified.

        Returns
        -------
        ndarray, shape (n_epochs, n_features, n_times)
        """
        check_is_fitted(self, "weights_")
        X = check_epochs(X, self.n_channels_)
        Z = np.matmul(X.transpose(0, 2, 1), self.weights_)
        Z -= self.offset_
        return Z.transpose(0, 2, 1)


# ----------------------------------------------------------------------------
# aggregation
# ----------------------------------------------------------------------------
def accuracy_weights(curve: np.ndarray, chance: float, margin: float = 0.0) -> np.ndarray:
    """Weights proportional to accuracy above chance, zero at or below it.

    Parameters
    ----------
    curve : ndarray, shape (n_times,)
        Cross-validated accuracy at each training time.
    chance : float
        Chance accuracy (e.g. 1 / n_classes).
    margin : float
        Accuracy that must be exceeded above chance before a time gets any
        weight (>= 0).

    Returns
    -------
    ndarray, shape (n_times,)
        Non-negative weights summing to 1, or all zeros when no time is
        above ``chance + margin``.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}.")
    excess = np.clip(np.asarray(curve, dtype=float) - chance - margin, 0.0, None)
    total = excess.sum()
    return excess / total if total > 0 else excess


def balanced_assignment(scores: np.ndarray, n_per_class: int | None = None) -> np.ndarray:
    """Label a batch so that every class gets (nearly) the same number of epochs.

    Solves the assignment problem (Hungarian algorithm) that maximises the
    summed scores, with each class offered ``n_per_class`` slots.

    Parameters
    ----------
    scores : ndarray, shape (n_epochs, n_classes)
        Higher means more likely (e.g. log-probabilities or z-scored
        evidence).
    n_per_class : int or None
        Slots per class; default ``ceil(n_epochs / n_classes)``, i.e. class
        counts differ by at most one when ``n_epochs`` is not a multiple.

    Returns
    -------
    ndarray of int, shape (n_epochs,)
        Column index of the class given to each epoch.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D and finite, or the slots cannot hold the batch.
    """
    from scipy.optimize import linear_sum_assignment

    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or not np.isfinite(scores).all():
        raise ValueError(
            f"scores must be a finite 2-D (n_epochs, n_classes) array, got shape {scores.shape}."
        )
    n_epochs, n_classes = scores.shape
    if n_per_class is None:
        n_per_class = -(-n_epochs // n_classes)
    if n_per_class * n_classes < n_epochs:
        raise ValueError(
            f"{n_classes} classes x {n_per_class} slots cannot label {n_epochs} epochs; raise n_per_class."
        )
    cost = -np.repeat(scores, n_per_class, axis=1)  # columns: class 0 x n, class 1 x n, ...
    rows, cols = linear_sum_assignment(cost)
    labels = np.empty(n_epochs, dtype=int)
    labels[rows] = cols // n_per_class
    return labels


# ----------------------------------------------------------------------------
# the generalisation ensemble
# ----------------------------------------------------------------------------
class GeneralizationEnsemble(ClassifierMixin, BaseEstimator):
    """Engine shared by ``sliding-ensemble`` and ``temporal-generalization``.

    Not a decoder by itself: subclasses define ``__init__`` (storing at
    least ``sfreq``, ``localizer_tmin``, ``imagine_tmin``, ``n_components``,
    ``half_window``, ``shrinkage``, ``scan`` and ``random_state``) and
    ``fit``, which calls :meth:`_fit_projection`, chooses training times and
    their weights, and calls :meth:`_fit_models`.

    Fitted attributes set here: ``classes_``, ``projection_``,
    ``train_index_`` (localizer samples with an LDA), ``weights_`` (their
    weights, summing to 1), ``coef_`` and ``intercept_`` (the batched LDA of
    :func:`decoders._lda.fit_lda_batched`, restricted to the kept training
    times), ``n_times_``.
    """

    #: Training times processed together in the generalisation (memory cap).
    _CHUNK = 16

    def _fit_projection(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate, fit the channel projection, return ``(Z, y, classes)``.

        ``Z`` (n_epochs, n_features, n_times) is projected and smoothed with
        the ``half_window`` moving average.
        """
        X = check_epochs(X)
        y, classes = check_labels(X, y)
        self.classes_ = classes
        self.n_times_ = X.shape[2]
        self.projection_ = ChannelProjection(self.n_components, self.random_state).fit(X)
        return self._features(X, fitted=False), y, classes

    def _features(self, X: np.ndarray, fitted: bool = True) -> np.ndarray:
        """Projected, smoothed features of any epochs."""
        if fitted:
            check_is_fitted(self, "coef_")
        Z = self.projection_.transform(X)
        return moving_average(Z, window_width(self.half_window, self.sfreq))

    def _fit_models(self, Z: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        """Fit the batched LDA at every localizer time with a positive weight."""
        from decoders._lda import fit_lda_batched

        weights = np.asarray(weights, dtype=float)
        if weights.shape != (Z.shape[2],) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                "Training-time weights must be non-negative, one per localizer sample "
                f"({Z.shape[2]}), with a positive sum; got shape {weights.shape}, sum {weights.sum()}."
            )
        self.train_index_ = np.flatnonzero(weights > 0)
        self.weights_ = weights[self.train_index_] / weights.sum()
        self.coef_, self.intercept_ = fit_lda_batched(
            Z[:, :, self.train_index_], y, shrinkage=self.shrinkage, classes=self.classes_
        )

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Perception-time probabilities of localizer-format epochs.

        Each training time's LDA is applied at its own latency; the
        log-probabilities are averaged over training times with the fitted
        weights (a weighted geometric mean of the probabilities).

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_localizer_times)
            Localizer-format epochs.

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        from decoders._lda import decision_function_batched

        check_is_fitted(self, "coef_")
        X = check_localizer_epochs(X, self.projection_.n_channels_, self.n_times_)
        Z = self._features(X)[:, :, self.train_index_]
        decision = decision_function_batched(Z, self.coef_, self.intercept_)  # (n, T, K)
        log_proba = np.einsum("ntk,t->nk", log_softmax(decision, axis=2), self.weights_)
        return softmax(log_proba, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of localizer-format epochs.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_localizer_times)
            Localizer-format epochs.

        Returns
        -------
        ndarray, shape (n_epochs,)
        """
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _scan_mask(self, n_times: int) -> np.ndarray:
        return time_mask(self.imagine_tmin, self.sfreq, n_times, self.scan, "scan")

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Ensembled evidence at every imagine time.

        Every training time's LDA is applied at every imagine time
        (:func:`decoders._lda.generalization_decision`); its decision values
        are z-scored per class over the batch's epochs and ``scan`` times,
        then averaged over training times with the fitted weights.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            Imagine epochs.

        Returns
        -------
        ndarray, shape (n_epochs, n_imagine_times, n_classes)
        """
        from decoders._lda import generalization_decision

        Z = self._features(X)
        scan = self._scan_mask(Z.shape[2])
        course = np.zeros((Z.shape[0], Z.shape[2], len(self.classes_)))
        for start in range(0, len(self.train_index_), self._CHUNK):
            stop = min(start + self._CHUNK, len(self.train_index_))
            decision = generalization_decision(
                Z, self.coef_[start:stop], self.intercept_[start:stop]
            )  # (n, chunk, t, K)
            z = zscore_over_batch(decision, (0, 2), reference=decision[:, :, scan])
            course += np.einsum("nctk,c->ntk", z, self.weights_[start:stop])
        return course

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs from evidence averaged over ``scan``.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            Imagine epochs.

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        course = self.imagine_time_course(X)
        scan = self._scan_mask(course.shape[1])
        return scanned_proba(course, scan)
