"""Accuracy-weighted temporal generalisation from the localizer to imagery.

The full temporal-generalisation matrix (King & Dehaene 2014): a shrinkage
LDA is trained at every localizer time point (one batched computation,
:func:`decoders._lda.fit_lda_batched`, after per-channel z-scoring and a PCA
fitted on the localizer) and tested at every imagine time point. The
training times are weighted by how well they decode the localizer: their
accuracy above chance in an inner cross-validation on the training epochs
only (:func:`decoders._lda.cross_val_accuracy_over_time`), minus a margin of
``margin_se`` binomial standard errors, and zero at or below it, so that
pre-stimulus and late, undecodable latencies do not dilute the evidence.
Each training time's decision values are z-scored per class over the imagine
batch, averaged over training times with those weights, then over imagine
times 0-5 s. Imagery re-activates the perceptual code at latencies that
differ from perception and between trials (Dijkstra et al. 2018), which the
generalisation over all imagine times tolerates.

References
----------
King, J.-R., & Dehaene, S. (2014). Characterizing the dynamics of mental
representations: the temporal generalization method. Trends in Cognitive
Sciences, 18(4), 203-210.

Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.
"""

from __future__ import annotations

import logging

import numpy as np

from benchmark.contract import DecoderSpec
from decoders._generalization import GeneralizationEnsemble
from decoders._model_selection import accuracy_weights, make_inner_cv
from decoders._scan import ContextFactory
from decoders._time import moving_average, time_mask, window_width

logger = logging.getLogger(__name__)


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


class WeightedTemporalGeneralization(GeneralizationEnsemble):
    """Temporal generalisation with training times weighted by localizer accuracy.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin, scan, n_components, n_splits, shrinkage
        See *Common parameters* of :class:`decoders._scan.ImagineClassifierMixin`.
    train_window : tuple of (float or None) or None
        Localizer interval (s) considered for training; None: every sample
        (the full matrix).
    half_window : float
        Half-width (s) of the moving average applied to the data before the
        LDA and to the accuracy curve before weighting.
    margin_se : float
        Training times need an inner-CV accuracy above chance by this many
        binomial standard errors to get any weight.
    random_state : int or None
        Seed of the inner cross-validation and the PCA.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels.
    projection_ : ChannelProjection
        Fitted channel z-scoring and PCA.
    cv_curve_ : ndarray, shape (n_localizer_times,)
        Inner-CV accuracy at each localizer time (NaN outside
        ``train_window``).
    train_index_ : ndarray of int, shape (n_train_times,)
        Localizer samples with a positive weight (one LDA each).
    weights_ : ndarray, shape (n_train_times,)
        Their weights, summing to 1.
    coef_ : ndarray, shape (n_train_times, n_classes, n_features)
        LDA weights per training time.
    intercept_ : ndarray, shape (n_train_times, n_classes)
        LDA intercepts per training time.
    n_times_ : int
        Localizer samples per epoch.

    See Also
    --------
    decoders.sliding_ensemble.SlidingLDAEnsemble : uniform weights on a
        fixed window.
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        train_window: tuple[float | None, float | None] | None = None,
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
        self.scan = scan
        self.n_components = n_components
        self.half_window = half_window
        self.margin_se = margin_se
        self.n_splits = n_splits
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> WeightedTemporalGeneralization:
        """Weight training times by inner-CV accuracy and fit their LDAs.

        ``X``: localizer epochs (n_epochs, n_channels, n_times), not modified; ``y``: item names.
        """
        from decoders._lda import cross_val_accuracy_over_time

        Z, y, classes = self._fit_projection(X, y)
        window = time_mask(self.localizer_tmin, self.sfreq, Z.shape[2], self.train_window, "train_window")
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


DECODER = DecoderSpec(
    name="temporal-generalization",
    family="time-resolved",
    description="Localizer x imagine generalisation, training times weighted by inner-CV accuracy.",
    factory=ContextFactory(WeightedTemporalGeneralization),
    reference="King & Dehaene 2014, Trends Cogn Sci; Dijkstra et al. 2018, eLife",
)
