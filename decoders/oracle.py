"""Oracle: the simulation's true imagery patterns and onsets, as a matched filter.

Available only on simulated data (it asks the harness for the ground truth,
which real data does not have) and never ranked. For each imagine trial it
averages the data under the trial's true imagery envelope and scores each
class with the Gaussian log-likelihood ratio of the true imagery pattern,
under a noise covariance estimated from the localizer's pre-stimulus samples.
With the true patterns, onsets and a near-Gaussian noise model, this is close
to the best any decoder can do at the simulation's SNR: the ceiling against
which the leaderboard's numbers are read.

References
----------
Kay, S. M. (1998). Fundamentals of Statistical Signal Processing, Vol. II:
Detection Theory, ch. 4 (matched filters). Prentice Hall.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec


class OracleDecoder(ClassifierMixin, BaseEstimator):
    """Matched filter on the true class patterns and time courses.

    Parameters
    ----------
    localizer_tmin : float
        Time (s) of the first localizer sample; samples before 0 s give the noise.
    sfreq : float
        Sampling rate (Hz).
    shrinkage : float
        Shrinkage of the noise covariance towards its scaled diagonal.

    Attributes
    ----------
    classes_ : ndarray of str, shape (10,)
        Item names.
    whitener_ : ndarray, shape (n_channels, n_channels)
        Inverse of the shrunk noise covariance.
    """

    def __init__(self, localizer_tmin: float = -0.2, sfreq: float = 100.0, shrinkage: float = 0.05) -> None:
        self.localizer_tmin = localizer_tmin
        self.sfreq = sfreq
        self.shrinkage = shrinkage

    def fit(self, X: np.ndarray, y: np.ndarray, *, truth: dict[str, np.ndarray]) -> OracleDecoder:
        """Estimate the noise covariance; keep the true patterns and time courses.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs (only the pre-stimulus samples are used).
        y : array-like of str
            Item names (unused beyond the class list).
        truth : dict
            The subject's ground truth from the simulator: ``class_names``,
            ``imagery_patterns``, ``localizer_patterns``,
            ``localizer_time_course``, ``imagine_envelopes``.
        """
        self.classes_ = np.asarray(truth["class_names"]).astype(str)
        n_pre = int(round(-self.localizer_tmin * self.sfreq))
        if n_pre < 2:
            raise ValueError("the oracle needs pre-stimulus localizer samples to estimate the noise.")
        noise = np.asarray(X[:, :, :n_pre], dtype=np.float64)
        noise = (noise - noise.mean(axis=2, keepdims=True)).transpose(0, 2, 1).reshape(-1, X.shape[1])
        cov = noise.T @ noise / len(noise)
        target = np.diag(np.diag(cov))
        self.whitener_ = np.linalg.pinv((1 - self.shrinkage) * cov + self.shrinkage * target, hermitian=True)
        self.localizer_patterns_ = np.asarray(truth["localizer_patterns"], dtype=np.float64)
        self.localizer_course_ = np.asarray(truth["localizer_time_course"], dtype=np.float64)
        self.imagery_patterns_ = np.asarray(truth["imagery_patterns"], dtype=np.float64)
        self.imagine_envelopes_ = np.asarray(truth["imagine_envelopes"], dtype=np.float64)
        return self

    def _score(self, X: np.ndarray, weights: np.ndarray, patterns: np.ndarray) -> np.ndarray:
        """Gaussian log-likelihood ratio of ``x(t) = pattern_k * w(t) + noise`` per class.

        ``weights`` is the known time course, (n_epochs, n_times) or (1, n_times).
        """
        weights = np.broadcast_to(weights, (len(X), X.shape[2]))
        norm = np.maximum((weights**2).sum(axis=1), 1e-12)
        amplitude = np.einsum("nct,nt->nc", np.asarray(X, dtype=np.float64), weights) / norm[:, None]
        filters = patterns @ self.whitener_
        energy = 0.5 * np.einsum("kc,kc->k", filters, patterns)
        return norm[:, None] * (amplitude @ filters.T - energy[None, :])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer epochs -> probabilities from the true localizer patterns."""
        check_is_fitted(self)
        return softmax(self._score(X, self.localizer_course_[None, :], self.localizer_patterns_), axis=1)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs (in file order) -> probabilities from the true imagery."""
        check_is_fitted(self)
        if X.shape[0] != len(self.imagine_envelopes_) or X.shape[2] != self.imagine_envelopes_.shape[1]:
            raise ValueError(
                f"the oracle knows {self.imagine_envelopes_.shape} imagine envelopes, got epochs of shape "
                f"{X.shape}; it only decodes the subject's own imagine epochs in file order."
            )
        return softmax(self._score(X, self.imagine_envelopes_, self.imagery_patterns_), axis=1)


def make(context: DecoderContext) -> OracleDecoder:
    """Return a fresh oracle for ``context``'s data."""
    return OracleDecoder(localizer_tmin=float(context.localizer_times[0]), sfreq=context.sfreq)


DECODER = DecoderSpec(
    name="oracle",
    family="oracle",
    description="Simulation only, not ranked: matched filter on the true imagery patterns and onsets.",
    factory=make,
    uses=frozenset({"truth"}),
    ranked=False,
    reference="Kay 1998, Fundamentals of Statistical Signal Processing II",
)
