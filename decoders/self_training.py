"""Transductive self-training on the subject's unlabeled imagine epochs.

A shrinkage LDA trained at the localizer's decoding peak (the ``lda-peak``
decoder, :func:`decoders.toolkit.scan.peak_scan`) labels the subject's
imagine epochs under the design's balanced-class constraint: every item is
imagined about equally often, so labels are assigned by the Hungarian
algorithm with each item offered ``ceil(n / 10)`` slots, maximising the
summed per-class z-scored evidence (Kuhn 1955). From each pseudo-labelled
trial, the imagine window in which its assigned item's evidence peaks is
added to the training set (after aligning the imagine features' mean on the
localizer's, a minimal domain adaptation), the classifier is refitted on
localizer + pseudo-labelled imagery, and the labelling is repeated a few
times or until it no longer changes: classic self-training (Yarowsky 1995;
Lee 2013) with a class-balance constraint, adapting the perceptual code
towards its imagery version. No imagine label is ever used; the decoder
only sees the unlabeled epochs the harness passes as ``X_imagine``.

References
----------
Yarowsky, D. (1995). Unsupervised word sense disambiguation rivaling
supervised methods. Proceedings of ACL, 189-196.

Lee, D.-H. (2013). Pseudo-label: the simple and efficient semi-supervised
learning method for deep neural networks. ICML Workshop on Challenges in
Representation Learning.

Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval
Research Logistics Quarterly, 2(1-2), 83-97.

Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.assignment import balanced_assignment
from benchmark.contract import DecoderContext, DecoderSpec
from decoders.toolkit.bases import fit_or_take
from decoders.toolkit.evidence import pooled_proba, zscore_over_batch
from decoders.toolkit.scan import evidence
from decoders.toolkit.times import moving_average, sample_times
from decoders.toolkit.validation import check_epochs, check_labels, check_localizer_epochs


class SelfTrainingDecoder(ClassifierMixin, BaseEstimator):
    """A peak scan's classifier refitted on balanced pseudo-labels of the imagine epochs.

    Parameters
    ----------
    base : ImagineScan
        The unfitted localizer-only scan (``window_input='mean'``, e.g.
        ``lda-peak``'s): its preprocessing, training window, classifier,
        scan interval, pooling and time axes are the self-trained decoder's.
        Pseudo-labels are searched in its ``scan`` interval; its classifier
        (cloned) is the one refitted.
    n_iter : int
        Maximum number of label-refit rounds (0: the base scan alone).
    base_name : str
        The registered name of ``base``'s decoder: its fit handed to
        :meth:`fit` as ``fitted[base_name]`` is used as the base scan.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels.
    base_ : ImagineScan
        The fitted localizer-only scan (projection, training window, first
        classifier).
    classifier_ : estimator
        The final classifier, fitted on the localizer training windows plus
        the pseudo-labelled imagine windows.
    pseudo_labels_ : ndarray of str, shape (n_imagine_epochs,) or None
        Final pseudo-label of each imagine epoch seen in fit (None without
        ``X_imagine``).
    pseudo_times_ : ndarray, shape (n_imagine_epochs,) or None
        Imagine latency (s) of each epoch's window used for refitting.
    n_iter_ : int
        Label-refit rounds run.
    """

    def __init__(self, base=None, n_iter: int = 3, base_name: str = "") -> None:
        self.base = base
        self.n_iter = n_iter
        self.base_name = base_name

    # -------------------------------------------------------------- helpers
    def _features(self, X: np.ndarray) -> np.ndarray:
        """Projected, window-averaged features at every time: (n, p, t)."""
        return moving_average(self.base_.transform_epochs(X), self.base_.length_)

    def _peak_features(self, X: np.ndarray) -> np.ndarray:
        """Window-averaged features at the centre of the localizer training window: (n, p).

        Only the samples inside the averaging window are projected (the
        moving average there depends on no other sample, also at the
        epoch's edges), which is ~10x cheaper than projecting whole epochs.
        """
        half = self.base_.length_ // 2
        peak = self.base_.start_ + half
        start, stop = max(0, peak - half), min(X.shape[2], peak + half + 1)
        return self._features(X[:, :, start:stop])[:, :, peak - start]

    def _decision(self, classifier, F: np.ndarray) -> np.ndarray:
        """Evidence of ``classifier`` at every time of ``F`` (n, p, t) -> (n, t, K)."""
        n, p, t = F.shape
        flat = F.transpose(0, 2, 1).reshape(-1, p)
        return evidence(classifier, flat, self.base_.method).reshape(n, t, -1)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_imagine: np.ndarray | None = None,
        *,
        fitted: Mapping[str, object] | None = None,
    ) -> SelfTrainingDecoder:
        """Fit the base scan (or take its handed fit), then self-train its classifier on the imagine epochs.

        Parameters
        ----------
        X, y
            Localizer epochs and item names, as in :meth:`decoders.toolkit.scan.ImagineScan.fit`.
        X_imagine : ndarray, shape (n_imagine_epochs, n_channels, n_imagine_times) or None
            The subject's unlabeled imagine epochs; not modified. None fits
            the base scan alone.
        fitted : mapping of str to estimator, or None
            The harness's fit of ``lda-peak`` (``DecoderSpec.builds_on``), used
            as the base scan when it has the base's parameters
            (:func:`decoders.toolkit.bases.fit_or_take`).

        Returns
        -------
        self : SelfTrainingDecoder
        """
        from sklearn.base import clone

        if self.base is None or getattr(self.base, "window_input", None) != "mean":
            raise ValueError(
                "self-training: base must be an ImagineScan with window_input='mean' (e.g. lda-peak's "
                f"decoders.toolkit.scan.peak_scan), got {type(self.base).__name__}."
            )
        if int(self.n_iter) < 0:
            raise ValueError(f"n_iter must be >= 0, got {self.n_iter}.")
        X = check_epochs(X)
        y, classes = check_labels(X, y)
        self.base_ = fit_or_take(self.base, X, y, fitted, self.base_name)
        self.classes_ = self.base_.classes_
        self.classifier_ = self.base_.classifier_
        self.pseudo_labels_ = self.pseudo_times_ = None
        self.n_iter_ = 0
        if X_imagine is None or int(self.n_iter) == 0:
            return self

        X_imagine = check_epochs(X_imagine, X.shape[1], "X_imagine")
        loc = self._peak_features(X)  # (n, p)
        scan = self.base_.scan_mask(X_imagine.shape[2])
        F = self._features(X_imagine)[:, :, scan]  # (n_img, p, S)
        # Align the imagine features' mean on the localizer's (domain shift).
        F = F - F.mean(axis=(0, 2))[None, :, None] + loc.mean(axis=0)[None, :, None]
        scan_times = sample_times(self.base_.imagine_tmin, self.base_.sfreq, X_imagine.shape[2])[scan]
        rows = np.arange(len(F))
        labels = None
        classifier = self.classifier_
        for _ in range(int(self.n_iter)):
            z = zscore_over_batch(self._decision(classifier, F), (0, 1))  # (n_img, S, K)
            new_labels = balanced_assignment(z.mean(axis=1))
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            best = z[rows, :, labels].argmax(axis=1)  # (n_img,) best window per trial
            pseudo = F[rows, :, best]  # (n_img, p)
            classifier = clone(self.base_.classifier_).fit(
                np.vstack([loc, pseudo]), np.concatenate([y, classes[labels]])
            )
            self.n_iter_ += 1
            self.pseudo_times_ = scan_times[best]
        self.classifier_ = classifier
        self.pseudo_labels_ = classes[labels]
        return self

    # -------------------------------------------------------------- predict
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of localizer-format epochs, shape (n_epochs,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs at the localizer training window."""
        check_is_fitted(self, "classifier_")
        X = check_localizer_epochs(X, self.base_.n_channels_, self.base_.n_times_)
        return self.classifier_.predict_proba(self._peak_features(X))

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Evidence of the self-trained classifier at every imagine time."""
        check_is_fitted(self, "classifier_")
        X = check_epochs(X, self.base_.n_channels_)
        return self._decision(self.classifier_, self._features(X))

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs: the evidence course pooled over the base scan's ``scan``."""
        return self.pool_time_course(self.imagine_time_course(X))

    def pool_time_course(self, course: np.ndarray) -> np.ndarray:
        """Probabilities from ``imagine_time_course``'s output: what :meth:`predict_proba_imagine` returns."""
        scan = self.base_.scan_mask(course.shape[1])
        return pooled_proba(course[:, scan], self.base_.pooling, 1.0 / self.base_.sfreq)


def make(context: DecoderContext) -> SelfTrainingDecoder:
    """Peak LDA self-trained on balanced (Hungarian) pseudo-labels of the unlabeled imagery.

    ``lda-peak``'s decoder (:func:`decoders.toolkit.scan.peak_scan`) as the base.
    """
    from decoders.lda_peak import DECODER as lda_peak

    return SelfTrainingDecoder(base=lda_peak.factory(context), base_name=lda_peak.name)


DECODER = DecoderSpec(
    name="self-training",
    family="transductive",
    factory=make,
    uses=frozenset({"imagine"}),
    reference="Yarowsky 1995, ACL; Lee 2013, ICML WREPL; Kuhn 1955, Nav Res Logist Q",
    builds_on=("lda-peak",),
)
