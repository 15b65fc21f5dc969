"""Peak-window decoding: train at the localizer's best latency, scan imagery.

Shared by ``lda-peak`` and ``logreg-l1-peak``. The estimator

1. z-scores each channel (statistics over localizer epochs and times), which
   also puts magnetometers and gradiometers on one scale;
2. reduces the channels with PCA fitted on the localizer (tSSS leaves the
   306 channels with rank ~70);
3. finds the latency at which the localizer is best decoded, by a
   time-resolved shrinkage-LDA cross-validation on the training epochs only;
4. fits the final classifier on the data averaged over a short window around
   that peak;
5. on imagine epochs, applies that classifier to the same-length moving
   average at every imagine time in ``scan`` and averages the decision
   values over time before a softmax.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from decoders._evidence import scanned_proba
from decoders._lda import cross_val_accuracy_over_time
from decoders._validation import check_epochs, check_localizer_epochs


class PeakWindowDecoder(ClassifierMixin, BaseEstimator):
    """Classifier trained at the localizer's decoding peak, scanned over imagery.

    Parameters
    ----------
    classifier : estimator
        scikit-learn classifier on 2-D features with ``decision_function``
        and ``predict_proba``; cloned at fit.
    sfreq : float
        Sampling rate in Hz.
    localizer_tmin, imagine_tmin : float
        Time of the first sample of localizer and imagine epochs, in s.
    search : tuple of float
        Localizer interval (s) in which the peak is searched.
    half_window : float
        Half-width (s) of the averaging window around the peak.
    n_components : int or None
        PCA components kept (None: no PCA).
    scan : tuple of float
        Imagine interval (s) over which evidence is averaged.
    n_splits : int
        Folds of the inner cross-validation that picks the peak.
    random_state : int or None
        Seed of the inner cross-validation and the classifier.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels.
    peak_time_ : float
        Chosen localizer latency (s).
    cv_curve_ : ndarray, shape (n_localizer_times,)
        Inner-CV accuracy of shrinkage LDA at each localizer time.
    mean_, scale_ : ndarray, shape (n_channels,)
        Channel standardisation.
    pca_ : PCA or None
        Fitted PCA.
    classifier_ : estimator
        Fitted classifier on the peak window.
    """

    def __init__(
        self,
        classifier=None,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        search: tuple[float, float] = (0.05, 0.6),
        half_window: float = 0.02,
        n_components: int | None = 60,
        scan: tuple[float, float] = (0.0, 5.0),
        n_splits: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.classifier = classifier
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.search = search
        self.half_window = half_window
        self.n_components = n_components
        self.scan = scan
        self.n_splits = n_splits
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def fit(self, X: np.ndarray, y: np.ndarray) -> PeakWindowDecoder:
        """Pick the peak by inner CV and fit the classifier there.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs.
        y : array-like of str, shape (n_epochs,)
            Item names.

        Returns
        -------
        self : PeakWindowDecoder
        """
        if self.classifier is None:
            raise ValueError("PeakWindowDecoder needs a classifier, got None.")
        X = check_epochs(X)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} epochs but y has {len(y)} labels.")
        self.n_channels_ = X.shape[1]
        self.n_times_ = X.shape[2]
        self.classes_ = np.unique(y)
        self.mean_ = X.mean(axis=(0, 2))
        self.scale_ = X.std(axis=(0, 2))
        self.scale_[self.scale_ == 0] = 1.0
        self.pca_ = None
        if self.n_components is not None:
            flat = ((X - self.mean_[:, None]) / self.scale_[:, None]).transpose(0, 2, 1)
            flat = flat.reshape(-1, X.shape[1])
            n_comp = min(self.n_components, flat.shape[1], flat.shape[0])
            self.pca_ = PCA(n_components=n_comp, random_state=self.random_state).fit(flat)
            # fold the standardisation into the PCA weights: one matrix product per call
            components = self.pca_.components_
            self.projection_ = components / self.scale_[None, :]
            self.offset_ = components @ (self.mean_ / self.scale_ + self.pca_.mean_)
        Z = self._project(X)
        times = self.localizer_tmin + np.arange(self.n_times_) / self.sfreq
        min_count = int(np.bincount(np.unique(y, return_inverse=True)[1]).min())
        cv = StratifiedKFold(
            n_splits=max(2, min(self.n_splits, min_count)), shuffle=True, random_state=self.random_state
        )
        self.cv_curve_ = cross_val_accuracy_over_time(Z, y, cv).mean(axis=0)
        smoothed = uniform_filter1d(self.cv_curve_, size=self._width(), mode="nearest")
        in_search = (times >= self.search[0]) & (times <= self.search[1])
        if not in_search.any():
            raise ValueError(
                f"search={self.search} s holds no localizer sample (times {times[0]:.2f}..{times[-1]:.2f} s)."
            )
        candidates = np.flatnonzero(in_search)
        self.peak_index_ = int(candidates[np.argmax(smoothed[candidates])])
        self.peak_time_ = float(times[self.peak_index_])
        self.classifier_ = clone(self.classifier)
        seeds = {
            key: self.random_state
            for key in self.classifier_.get_params()
            if key == "random_state" or key.endswith("__random_state")
        }
        self.classifier_.set_params(**seeds)
        self.classifier_.fit(self._window_features(Z)[:, :, self.peak_index_], y)
        return self

    # ------------------------------------------------------------ transforms
    def _width(self) -> int:
        return 2 * int(round(self.half_window * self.sfreq)) + 1

    def _project(self, X: np.ndarray) -> np.ndarray:
        """Standardise channels and apply PCA in one product: (n, ch, t) -> (n, comp, t)."""
        if self.pca_ is None:
            return (X - self.mean_[:, None]) / self.scale_[:, None]
        return np.matmul(self.projection_, X) - self.offset_[:, None]

    def _window_features(self, Z: np.ndarray) -> np.ndarray:
        """Average over time in a moving window as wide as the peak window."""
        return uniform_filter1d(Z, size=self._width(), axis=2, mode="nearest")

    # --------------------------------------------------------------- predict
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs at the fitted peak.

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        check_is_fitted(self)
        X = check_localizer_epochs(X, self.n_channels_, self.n_times_)
        features = self._window_features(self._project(X))[:, :, self.peak_index_]
        return self.classifier_.predict_proba(features)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of localizer-format epochs."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Decision values at every imagine time point.

        Returns
        -------
        ndarray, shape (n_epochs, n_imagine_times, n_classes)
        """
        check_is_fitted(self)
        X = check_epochs(X, self.n_channels_)
        features = self._window_features(self._project(X))
        n, comp, t = features.shape
        flat = features.transpose(0, 2, 1).reshape(-1, comp)
        decision = np.asarray(self.classifier_.decision_function(flat))
        return decision.reshape(n, t, -1)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs from evidence averaged over ``scan``.

        Each class's decision values are z-scored over all epochs and scanned
        times of ``X`` (no labels involved), which removes the class offsets
        a localizer-trained classifier shows on imagery data, then averaged
        over time and scaled so that pure noise gives unit variance.

        Returns
        -------
        ndarray, shape (n_epochs, n_classes)
        """
        decision = self.imagine_time_course(X)
        times = self.imagine_tmin + np.arange(decision.shape[1]) / self.sfreq
        in_scan = (times >= self.scan[0]) & (times <= self.scan[1])
        if not in_scan.any():
            raise ValueError(f"scan={self.scan} s holds no imagine sample.")
        return scanned_proba(decision, in_scan)
