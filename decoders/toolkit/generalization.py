"""Temporal generalisation from the localizer to imagery, uniform or accuracy-weighted.

One shrinkage LDA per localizer training time (fitted in one batched
computation, :func:`decoders.toolkit.lda.fit_lda_batched`), applied at every
imagine time, ensembled with per-training-time weights: the estimator of
``sliding-ensemble`` (uniform weights on a fixed window) and
``temporal-generalization`` (weights from inner-CV accuracy).

References
----------
King, J.-R., & Dehaene, S. (2014). Characterizing the dynamics of mental
representations: the temporal generalization method. Trends Cogn Sci, 18(4), 203-210.
Dijkstra, N., et al. (2018). Differential temporal dynamics during visual imagery
and perception. eLife, 7, e33904.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from decoders.toolkit.evidence import zscore_over_batch
from decoders.toolkit.model_selection import accuracy_weights, make_inner_cv
from decoders.toolkit.scan import ImagineClassifierMixin, LocalizerProjectionMixin
from decoders.toolkit.times import moving_average, time_mask, window_width
from decoders.toolkit.validation import check_localizer_epochs

logger = logging.getLogger(__name__)

#: How training times are weighted.
WEIGHTINGS = ("uniform", "accuracy")


def training_time_weights(
    curve: np.ndarray, n_classes: int, n_epochs: int, margin_se: float = 1.0, smooth: int = 1
) -> np.ndarray:
    """Weights of training times from their cross-validated accuracy.

    Parameters
    ----------
    curve : ndarray, shape (n_times,)
        Inner-CV accuracy at each localizer time.
    n_classes : int
        Number of classes; chance is ``1 / n_classes``.
    n_epochs : int
        Epochs the accuracy was measured on (all folds together), for the
        binomial standard error of chance accuracy.
    margin_se : float
        Margin above chance, in binomial standard errors, below which a
        time gets no weight (0: everything above chance counts).
    smooth : int
        Length (samples) of a moving average applied to ``curve`` first.

    Returns
    -------
    ndarray, shape (n_times,)
        Non-negative weights summing to 1, all zero when no time clears the
        margin.
    """
    chance = 1.0 / n_classes
    se = np.sqrt(chance * (1.0 - chance) / max(n_epochs, 1))
    smoothed = moving_average(np.asarray(curve, dtype=float), smooth)
    return accuracy_weights(smoothed, chance, margin_se * se)


class GeneralizationEnsemble(LocalizerProjectionMixin, ImagineClassifierMixin, BaseEstimator):
    """Per-latency shrinkage LDAs of the localizer, generalised over imagery and ensembled.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin, scan, n_components, n_splits, shrinkage, random_state
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    train_window : tuple of (float or None) or None
        Localizer interval (s, inclusive) considered for training; None:
        every sample (the full matrix).
    weighting : {'uniform', 'accuracy'}
        ``'uniform'``: every sample of ``train_window`` gets an LDA, all with
        the same weight. ``'accuracy'``: training times are weighted by their
        inner-CV accuracy above chance + ``margin_se`` binomial standard
        errors (:func:`training_time_weights`; the best time alone if none
        clears it).
    half_window : float
        Half-width (s) of the moving average applied to the data before the
        LDA (and to the accuracy curve before weighting); 0: single samples.
    margin_se : float
        Margin of ``weighting='accuracy'`` (binomial standard errors).

    Attributes
    ----------
    classes_, projection_, n_times_
        See *Attributes* of :class:`decoders.toolkit.scan.LocalizerProjectionMixin`.
    cv_curve_ : ndarray, shape (n_localizer_times,) or None
        Inner-CV accuracy at each localizer time (NaN outside
        ``train_window``; None with ``weighting='uniform'``).
    train_index_ : ndarray of int, shape (n_train_times,)
        Localizer samples with a positive weight (one LDA each).
    weights_ : ndarray, shape (n_train_times,)
        Their weights, summing to 1.
    coef_ : ndarray, shape (n_train_times, n_classes, n_features)
        LDA weights per training time.
    intercept_ : ndarray, shape (n_train_times, n_classes)
        LDA intercepts per training time.
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        train_window: tuple[float | None, float | None] | None = None,
        weighting: str = "accuracy",
        scan: tuple[float, float] = (0.0, 5.0),
        n_components: int | str | None = "rank",
        half_window: float = 0.02,
        margin_se: float = 1.0,
        n_splits: int = 5,
        shrinkage: float | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.train_window = train_window
        self.weighting = weighting
        self.scan = scan
        self.n_components = n_components
        self.half_window = half_window
        self.margin_se = margin_se
        self.n_splits = n_splits
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> GeneralizationEnsemble:
        """Weight the training times and fit their LDAs.

        ``X``: localizer epochs (n_epochs, n_channels, n_times), not modified; ``y``: item names.
        """
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}.")
        Z, y, classes = self._fit_projection(X, y)
        window = time_mask(self.localizer_tmin, self.sfreq, Z.shape[2], self.train_window, "train_window")
        self.cv_curve_ = None
        if self.weighting == "uniform":
            self._fit_models(Z, y, window.astype(float))
            return self
        from decoders.toolkit.lda import cross_val_accuracy_over_time

        cv = make_inner_cv(y, self.n_splits, self.random_state)
        curve = np.full(Z.shape[2], np.nan)
        curve[window] = cross_val_accuracy_over_time(Z[:, :, window], y, cv, shrinkage=self.shrinkage).mean(
            axis=0
        )
        self.cv_curve_ = curve
        weights = np.zeros(Z.shape[2])
        weights[window] = training_time_weights(
            curve[window], len(classes), len(y), self.margin_se, window_width(self.half_window, self.sfreq)
        )
        if weights.sum() <= 0:
            best = np.flatnonzero(window)[np.argmax(curve[window])]
            logger.info(
                "No localizer time decodes above chance + %.1f SE (best %.3f); using the best time only.",
                self.margin_se,
                curve[best],
            )
            weights[best] = 1.0
        self._fit_models(Z, y, weights)
        return self

    #: Training times processed together in the generalisation (memory cap).
    _CHUNK = 16

    def _features(self, X: np.ndarray) -> np.ndarray:
        """Projected, smoothed features of any epochs (fitted estimator)."""
        check_is_fitted(self, "coef_")
        return self._projected(X)

    def _fit_models(self, Z: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        """Fit the batched LDA at every localizer time with a positive weight."""
        from decoders.toolkit.lda import fit_lda_batched

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
        from decoders.toolkit.lda import decision_function_batched

        check_is_fitted(self, "coef_")
        X = check_localizer_epochs(X, self.projection_.n_channels_, self.n_times_)
        Z = self._features(X)[:, :, self.train_index_]
        decision = decision_function_batched(Z, self.coef_, self.intercept_)  # (n, T, K)
        log_proba = np.einsum("ntk,t->nk", log_softmax(decision, axis=2), self.weights_)
        return softmax(log_proba, axis=1)

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Ensembled evidence at every imagine time.

        Every training time's LDA is applied at every imagine time
        (:func:`decoders.toolkit.lda.generalization_decision`); its decision values
        are z-scored per class over the batch's epochs and ``scan`` times,
        then averaged over training times with the fitted weights.

        ``X``: imagine epochs -> ``(n_epochs, n_imagine_times, n_classes)``.
        """
        from decoders.toolkit.lda import generalization_decision

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
