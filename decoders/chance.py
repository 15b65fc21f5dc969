"""Chance: random class probabilities, the floor every decoder must beat.

Draws each epoch's probabilities from a flat Dirichlet distribution, so its
argmax is a uniformly random class. Its imagine accuracy estimates what pure
guessing scores on the same trials (expected 10 %).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec


class ChanceDecoder(ClassifierMixin, BaseEstimator):
    """Random probabilities drawn from a flat Dirichlet distribution.

    Parameters
    ----------
    random_state : int or None
        Seed; the same seed and input give the same output.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels seen in ``fit``.
    """

    def __init__(self, random_state: int | None = None) -> None:
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> ChanceDecoder:
        """Remember the classes; nothing is learned."""
        self.classes_ = np.unique(np.asarray(y))
        return self

    def _draw(self, n_epochs: int) -> np.ndarray:
        check_is_fitted(self)
        rng = np.random.default_rng(self.random_state)
        return rng.dirichlet(np.ones(len(self.classes_)), size=n_epochs)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Random probabilities, shape (n_epochs, n_classes)."""
        return self._draw(len(X))

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Random probabilities, shape (n_epochs, n_classes)."""
        return self._draw(len(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Random class labels."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def make(context: DecoderContext) -> ChanceDecoder:
    """Return a fresh :class:`ChanceDecoder` seeded from the context."""
    return ChanceDecoder(random_state=context.random_state)


DECODER = DecoderSpec(
    name="chance",
    family="baseline",
    description="Random probabilities (flat Dirichlet): the guessing floor, expected 10 %.",
    factory=make,
    reference="-",
)
