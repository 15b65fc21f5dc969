"""Chance: random class probabilities, the floor every decoder must beat.

Draws each epoch's probabilities from a flat Dirichlet distribution, so its
argmax is a uniformly random class. Its imagine accuracy estimates what pure
guessing scores on the same trials (expected 10 %).

Each epoch's draw is seeded from the run's seed and a checksum of that
epoch's samples: subjects (whose recordings differ) get independent draws,
so chance is a valid null across subjects, and an epoch gets the same draw
whatever order the harness hands the epochs in.
"""

from __future__ import annotations

import zlib

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec


class ChanceDecoder(ClassifierMixin, BaseEstimator):
    """Random probabilities drawn from a flat Dirichlet distribution.

    Parameters
    ----------
    random_state : int or None
        Run seed; each epoch's draw is seeded from it and the epoch's samples
        (the same seed and epoch give the same draw, in any order). None:
        fresh entropy.

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

    def _draw(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        n_classes = len(self.classes_)
        if self.random_state is None:
            return np.random.default_rng().dirichlet(np.ones(n_classes), size=len(X))
        seed = int(self.random_state) % 2**32
        out = np.empty((len(X), n_classes))
        for i, epoch in enumerate(np.asarray(X)):
            content = zlib.crc32(np.ascontiguousarray(epoch).view(np.uint8))
            out[i] = np.random.default_rng([seed, content]).dirichlet(np.ones(n_classes))
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Random probabilities, shape (n_epochs, n_classes), one independent draw per epoch."""
        return self._draw(X)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Random probabilities, shape (n_epochs, n_classes), one independent draw per epoch."""
        return self._draw(X)

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
