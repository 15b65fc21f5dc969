"""Evoked and induced evidence combined: prototype correlation and CSP band power, weighted on the localizer.

Two decoders, each fitted on the localizer only: ``prototype-correlation``
(the evoked, phase-locked code: class prototypes at the localizer's decoding
peak) and ``csp-lda`` (the induced code: band power of one-vs-rest CSP
filters in the subject's best alpha/beta band). Each is weighted by how far
its own inner cross-validated localizer accuracy lies above chance (the
stacking step: no extra fit, no imagine label). On imagery each decoder's
pooled log-probabilities are scaled by their spread over the imagine batch
(label-free, one number per decoder, so a decoder alone keeps its ranking
of classes), weighted and added. A world whose class code is evoked only
(or induced only) gives the other decoder a weight near 0.

References
----------
Wolpert, D. H. (1992). Stacked generalization. Neural Networks, 5(2), 241-259.
Xie, S., Kaiser, D., & Cichy, R. M. (2020). Curr Biol, 30(13), 2621-2627.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec
from decoders.toolkit.bases import fit_or_take
from decoders.toolkit.scan import ImagineClassifierMixin
from decoders.toolkit.validation import check_epochs, check_labels


def localizer_cv_accuracy(decoder) -> float:
    """Inner cross-validated localizer accuracy a fitted decoder computed for its own choices.

    ``cv_curve_`` at ``peak_index_`` (peak-window decoders) or the best
    ``cv_results_`` score of a grid-searched classifier (``classifier_``).

    Raises
    ------
    ValueError
        If the decoder keeps neither.
    """
    curve = getattr(decoder, "cv_curve_", None)
    if curve is not None and getattr(decoder, "peak_index_", None) is not None:
        return float(curve[decoder.peak_index_])
    inner = getattr(decoder, "classifier_", None)
    if inner is not None and hasattr(inner, "best_score_"):
        return float(inner.best_score_)
    raise ValueError(
        f"{type(decoder).__name__} keeps no inner-CV localizer accuracy "
        "(cv_curve_ or classifier_.best_score_)."
    )


class EvokedInducedDecoder(ImagineClassifierMixin, BaseEstimator):
    """Weighted sum of several localizer-trained decoders' scaled log-probabilities.

    Parameters
    ----------
    decoders : list of (str, estimator)
        Unfitted imagine decoders (cloned at fit), each with
        ``predict_proba``, ``predict_proba_imagine`` and an inner-CV localizer
        accuracy (:func:`localizer_cv_accuracy`).

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
    decoders_ : list of (str, estimator)
        The fitted decoders.
    cv_accuracies_ : ndarray, shape (n_decoders,)
        Their inner-CV localizer accuracies.
    weights_ : ndarray, shape (n_decoders,)
        ``max(accuracy - chance, 0)``, normalised to sum 1 (equal weights
        when every decoder is at or below chance).
    """

    def __init__(self, decoders=None) -> None:
        self.decoders = decoders

    def fit(
        self, X: np.ndarray, y: np.ndarray, *, fitted: Mapping[str, object] | None = None
    ) -> EvokedInducedDecoder:
        """Fit every decoder on the localizer and weight it by its inner-CV accuracy above chance.

        ``fitted``: the decoders already fitted on this localizer, by name
        (handed by the harness, see ``DecoderSpec.builds_on``); each is used
        only if it has the parameters of this decoder's own
        (:func:`decoders.toolkit.bases.fit_or_take`).
        """
        if not self.decoders:
            raise ValueError(
                "evoked-induced: give the decoders to combine (decoders=[(name, estimator), ...])."
            )
        X = check_epochs(X)
        y, self.classes_ = check_labels(X, y)
        self.decoders_ = []
        for name, decoder in self.decoders:
            estimator = fit_or_take(decoder, X, y, fitted, name)
            if list(estimator.classes_) != list(self.classes_):
                raise ValueError(f"evoked-induced: decoder {name!r} has classes {list(estimator.classes_)}.")
            self.decoders_.append((name, estimator))
        self.cv_accuracies_ = np.array([localizer_cv_accuracy(d) for _, d in self.decoders_])
        above = np.maximum(self.cv_accuracies_ - 1.0 / len(self.classes_), 0.0)
        self.weights_ = above / above.sum() if above.sum() > 0 else np.full(len(above), 1.0 / len(above))
        return self

    def _combine(self, probas: list[np.ndarray]) -> np.ndarray:
        logits = np.zeros_like(probas[0])
        for weight, proba in zip(self.weights_, probas, strict=True):
            if weight == 0:
                continue
            log_p = np.log(np.clip(proba, 1e-300, None))
            log_p -= log_p.mean(axis=1, keepdims=True)
            spread = log_p.std()
            logits += weight * log_p / (spread if spread > 0 else 1.0)
        return softmax(logits, axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer-format epochs -> the weighted combination of the decoders' probabilities."""
        check_is_fitted(self, "weights_")
        return self._combine([d.predict_proba(X) for _, d in self.decoders_])

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs -> the weighted combination of the decoders' pooled imagine probabilities."""
        check_is_fitted(self, "weights_")
        return self._combine([d.predict_proba_imagine(X) for _, d in self.decoders_])


def make(context: DecoderContext) -> EvokedInducedDecoder:
    """prototype-correlation (evoked) + csp-lda (induced), weighted by localizer inner-CV accuracy."""
    from decoders.csp_lda import DECODER as csp_lda
    from decoders.prototype_correlation import DECODER as prototype

    return EvokedInducedDecoder([(spec.name, spec.factory(context)) for spec in (prototype, csp_lda)])


DECODER = DecoderSpec(
    name="evoked-induced",
    family="hybrid",
    description="prototype-correlation (evoked) and csp-lda (induced power) combined, each weighted by its "
    "localizer inner-CV accuracy above chance.",
    factory=make,
    reference="Wolpert 1992, Neural Networks; Xie et al. 2020, Curr Biol",
    builds_on=("prototype-correlation", "csp-lda"),
)
