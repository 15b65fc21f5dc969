"""The generalisation ensemble shared by ``sliding-ensemble`` and ``temporal-generalization``.

One shrinkage LDA per localizer training time (fitted in one batched
computation, :func:`decoders._lda.fit_lda_batched`), applied at every
imagine time, ensembled with per-training-time weights.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from decoders._evidence import zscore_over_batch
from decoders._scan import ImagineClassifierMixin
from decoders._spatial import ChannelPCA
from decoders._time import moving_average, window_width
from decoders._validation import check_epochs, check_labels, check_localizer_epochs


class GeneralizationEnsemble(ImagineClassifierMixin, BaseEstimator):
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
        self.projection_ = ChannelPCA(self.n_components).fit(X)
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
        """
        from decoders._lda import decision_function_batched

        check_is_fitted(self, "coef_")
        X = check_localizer_epochs(X, self.projection_.n_channels_, self.n_times_)
        Z = self._features(X)[:, :, self.train_index_]
        decision = decision_function_batched(Z, self.coef_, self.intercept_)  # (n, T, K)
        log_proba = np.einsum("ntk,t->nk", log_softmax(decision, axis=2), self.weights_)
        return softmax(log_proba, axis=1)

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Ensembled evidence at every imagine time.

        Every training time's LDA is applied at every imagine time
        (:func:`decoders._lda.generalization_decision`); its decision values
        are z-scored per class over the batch's epochs and ``scan`` times,
        then averaged over training times with the fitted weights.

        ``X``: imagine epochs -> ``(n_epochs, n_imagine_times, n_classes)``.
        """
        from decoders._lda import generalization_decision

        Z = self._features(X)
        scan = self.scan_mask(Z.shape[2])
        course = np.zeros((Z.shape[0], Z.shape[2], len(self.classes_)))
        for start in range(0, len(self.train_index_), self._CHUNK):
            stop = min(start + self._CHUNK, len(self.train_index_))
            decision = generalization_decision(
                Z, self.coef_[start:stop], self.intercept_[start:stop]
            )  # (n, chunk, t, K)
            z = zscore_over_batch(decision, (0, 2), reference=decision[:, :, scan])
            course += np.einsum("nctk,c->ntk", z, self.weights_[start:stop])
        return course
