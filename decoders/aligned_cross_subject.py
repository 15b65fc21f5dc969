"""Cross-subject shrinkage LDA on Euclidean-aligned sensor data, scanned across imagery.

Sensor patterns differ across subjects (head position, anatomy). Each
subject's data are aligned in channel space by Euclidean alignment: with
``R`` the mean (time-centred) channel covariance of that subject's epochs,
shrunk towards a scaled identity (tSSS data have rank ~69 of 306 channels),
the aligned data are ``R^{-1/2} X`` (the symmetric inverse square root keeps
channel identity and puts magnetometers and gradiometers on one scale).
Window-mean features of the aligned localizer of the target subject and of
every other subject (a random subsample of epochs per class, to bound time
and memory; another subject's ``R`` is estimated on that subsample too) are
pooled, and a sample-weighted shrinkage LDA is trained on
them. The training window and the total weight of the other subjects are
chosen by inner cross-validation on the target subject's localizer (other
subjects always train, never test). On imagery, the target's imagine epochs
are re-aligned with their own covariance (no labels), the classifier is
applied to sliding windows over 0-5 s, each class's decision values are
z-scored over the imagine batch and averaged over windows.

References
----------
He, H., & Wu, D. (2020). Transfer learning for brain-computer interfaces: a
Euclidean space data alignment approach. IEEE Trans Biomed Eng, 67(2),
399-410.

Zanini, P., Congedo, M., Jutten, C., Said, S., & Berthoumieu, Y. (2018).
Transfer learning: a Riemannian geometry framework with applications to
brain-computer interfaces. IEEE Trans Biomed Eng, 65(5), 1107-1116.

Ledoit, O., & Wolf, M. (2004). A well-conditioned estimator for
large-dimensional covariance matrices. J Multivar Anal, 88(2), 365-411.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderSpec, TaskMemo
from decoders.toolkit.evidence import DEFAULT_POOLING, check_pooling
from decoders.toolkit.model_selection import make_inner_cv
from decoders.toolkit.scan import (
    ContextFactory,
    ImagineClassifierMixin,
    evidence,
    pool_windows,
    sliding_windows,
)
from decoders.toolkit.spatial import inverse_sqrtm, mean_covariance
from decoders.toolkit.times import sample_times, training_windows, window_means
from decoders.toolkit.validation import check_epochs, check_labels, check_localizer_epochs

logger = logging.getLogger(__name__)


class WeightedShrinkageLDA(ClassifierMixin, BaseEstimator):
    """Linear discriminant analysis with sample weights and Ledoit-Wolf shrinkage.

    Class means, class priors and the pooled within-class covariance are
    weighted by ``sample_weight``; the covariance is shrunk towards
    ``trace / n_features * I`` with the Ledoit-Wolf intensity of the weighted
    residuals (or a fixed intensity).

    Parameters
    ----------
    shrinkage : 'auto' or float
        'auto' (Ledoit-Wolf) or a fixed intensity in [0, 1].

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Sorted class labels.
    coef_ : ndarray, shape (n_classes, n_features)
        Discriminant weights.
    intercept_ : ndarray, shape (n_classes,)
        Intercepts.
    shrinkage_ : float
        Shrinkage intensity used.

    See Also
    --------
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : the unweighted model.
    """

    def __init__(self, shrinkage: float | str = "auto") -> None:
        self.shrinkage = shrinkage

    def fit(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> WeightedShrinkageLDA:
        """Fit the weighted model.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_features)
            Features.
        y : array-like, shape (n_samples,)
            Labels.
        sample_weight : ndarray, shape (n_samples,) or None
            Non-negative weights (None: all 1).

        Returns
        -------
        self : WeightedShrinkageLDA
        """
        from sklearn.covariance import ledoit_wolf_shrinkage

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or len(y) != len(X):
            raise ValueError(f"X must be 2-D with one row per label, got X {X.shape} and y {y.shape}.")
        weights = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights.shape != (len(X),) or (weights < 0).any() or not weights.sum() > 0:
            raise ValueError("sample_weight must be non-negative, one per sample, not all zero.")
        if self.shrinkage != "auto" and not 0.0 <= float(self.shrinkage) <= 1.0:
            raise ValueError(f"shrinkage must be 'auto' or a float in [0, 1], got {self.shrinkage!r}.")
        weights = weights / weights.sum()
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        class_weight = np.bincount(y_idx, weights=weights, minlength=len(self.classes_))
        if (class_weight <= 0).any():
            raise ValueError("every class needs a positive total weight.")
        onehot = np.eye(len(self.classes_))[y_idx] * weights[:, None]
        means = (onehot.T @ X) / class_weight[:, None]
        resid = X - means[y_idx]
        cov = (resid * weights[:, None]).T @ resid
        if self.shrinkage == "auto":
            scaled = resid * np.sqrt(weights * len(X))[:, None]
            self.shrinkage_ = float(ledoit_wolf_shrinkage(scaled, assume_centered=True))
        else:
            self.shrinkage_ = float(self.shrinkage)
        mu = np.trace(cov) / cov.shape[0]
        cov = (1 - self.shrinkage_) * cov + self.shrinkage_ * mu * np.eye(cov.shape[0])
        self.coef_ = np.linalg.solve(cov, means.T).T
        self.intercept_ = -0.5 * np.sum(means * self.coef_, axis=1) + np.log(class_weight)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Discriminant scores, shape (n_samples, n_classes)."""
        check_is_fitted(self, "coef_")
        return np.asarray(X, dtype=np.float64) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior probabilities (softmax of the scores), shape (n_samples, n_classes)."""
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each sample."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class AlignedCrossSubjectDecoder(ImagineClassifierMixin, BaseEstimator):
    """Pooled-subject LDA on Euclidean-aligned window means, scanned over imagery.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    windows : sequence of (float, float)
        Candidate localizer training windows (s), all of the same duration;
        chosen by inner cross-validation on the target's localizer.
    others_weights : sequence of float
        Candidate total weights of all other subjects' epochs relative to the
        target's (1: the others together weigh as much as the target);
        chosen by the same inner cross-validation.
    n_per_class_others : int or None
        Epochs per class drawn (without replacement, seeded) from each other
        subject, which also estimate that subject's alignment; bounds time
        and memory when ``others`` holds many subjects. None keeps every
        epoch.
    reg : float
        Shrinkage of each subject's mean covariance before its inverse square
        root (see :func:`decoders.toolkit.spatial.inverse_sqrtm`).
    recenter_imagine : bool
        Align imagine epochs with their own mean covariance (True) or with
        the target's localizer statistics (False).
    scan : tuple of float
        Imagine interval (s) covered by the sliding windows.
    stride : float
        Step (s) between sliding imagine windows.
    pooling : str
        How per-window evidence is pooled (:data:`decoders.toolkit.evidence.POOLINGS`).
    n_splits : int
        Folds of the inner cross-validation.
    random_state : int or None
        Seed of the subsampling of other subjects and of the inner folds.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels.
    align_ : ndarray, shape (n_channels, n_channels)
        The target localizer's alignment ``R^{-1/2}``.
    classifier_ : WeightedShrinkageLDA
        Fitted pooled classifier.
    window_ : tuple of float
        Chosen training window (s).
    others_weight_ : float
        Chosen total weight of the other subjects.
    cv_scores_ : ndarray, shape (n_windows, n_weights)
        Inner-CV accuracy on the target's localizer for each candidate pair.
    n_others_ : int
        Other subjects pooled.
    n_other_epochs_ : int
        Other subjects' epochs pooled (after subsampling).
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        windows: Sequence[tuple[float, float]] = ((0.1, 0.2), (0.2, 0.3)),
        others_weights: Sequence[float] = (0.25, 1.0),
        n_per_class_others: int | None = 10,
        reg: float = 0.01,
        recenter_imagine: bool = True,
        scan: tuple[float, float] = (0.0, 5.0),
        stride: float = 0.05,
        pooling: str = DEFAULT_POOLING,
        n_splits: int = 3,
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.windows = windows
        self.others_weights = others_weights
        self.n_per_class_others = n_per_class_others
        self.reg = reg
        self.recenter_imagine = recenter_imagine
        self.scan = scan
        self.stride = stride
        self.pooling = pooling
        self.n_splits = n_splits
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _aligned_features(self, X: np.ndarray, starts: np.ndarray, align: np.ndarray) -> np.ndarray:
        """Aligned window means: (n_epochs, n_channels, n_windows)."""
        return np.matmul(align, window_means(X, starts, self.length_))

    def _pool_others(
        self, others: Iterable, starts: np.ndarray, shape: tuple[int, int], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read each other subject once; keep only its aligned, subsampled window means."""
        feats, labels, subject_ids = [], [], []
        for k, (X_o, y_o) in enumerate(others):
            X_o = np.asarray(X_o)
            y_o = np.asarray(y_o)
            if X_o.ndim != 3 or X_o.shape[1:] != shape or len(y_o) != len(X_o):
                raise ValueError(
                    f"others[{k}]: expected localizer epochs (n, {shape[0]}, {shape[1]}) with one label "
                    f"each like the target's, got X {X_o.shape} and y {y_o.shape}."
                )
            unknown = set(np.unique(y_o)) - set(self.classes_)
            if unknown:
                raise ValueError(f"others[{k}]: labels {sorted(unknown)} are not among the target's classes.")
            keep = np.arange(len(y_o))
            if self.n_per_class_others is not None:
                keep = np.concatenate([
                    rng.permutation(np.flatnonzero(y_o == c))[: self.n_per_class_others]
                    for c in np.unique(y_o)
                ])  # fmt: skip
                keep.sort()
            chosen = check_epochs(X_o[keep], name=f"others[{k}] X", keep_float32=True)
            # the alignment of another subject is estimated on the same subsample: a
            # tenth of the epochs still gives >10k samples for a rank-70 covariance,
            # and 28 others x 6 fits per task made this the run's largest cost
            align = inverse_sqrtm(mean_covariance(chosen), self.reg)
            feats.append(self._aligned_features(chosen, starts, align))
            labels.append(y_o[keep])
            subject_ids.append(np.full(len(keep), k))
            del X_o, chosen  # only the reduced features are kept
        if not feats:
            empty = np.empty((0, shape[0], len(starts)))
            return empty, np.empty(0, dtype=self.classes_.dtype), np.empty(0, dtype=int)
        return np.concatenate(feats), np.concatenate(labels), np.concatenate(subject_ids)

    def fit(
        self, X: np.ndarray, y: np.ndarray, others: Iterable | None = None, memo: TaskMemo | None = None
    ) -> AlignedCrossSubjectDecoder:
        """Align every subject, pool their window features, choose window and weight, fit.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            The target subject's localizer epochs. Not modified.
        y : array-like of str, shape (n_epochs,)
            Their item names.
        others : iterable of (X, y) or None
            The other subjects' localizer epochs and labels, iterated once
            (a lazy sequence is read one subject at a time). None or empty:
            the target alone is used.
        memo : TaskMemo or None
            The harness's per-task memo: the other subjects' aligned features
            do not depend on the target's fold, so the localizer-CV folds and
            the final fit of one task compute them once. None: computed here.

        Returns
        -------
        self : AlignedCrossSubjectDecoder
        """
        check_pooling(self.pooling)
        if len(self.others_weights) == 0 or min(self.others_weights) < 0:
            raise ValueError(f"others_weights must be non-empty and non-negative, got {self.others_weights}.")
        if self.stride <= 0:
            raise ValueError(f"stride must be positive (s), got {self.stride}.")
        X = check_epochs(X, keep_float32=True)
        y, self.classes_ = check_labels(X, y)
        self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        times = sample_times(self.localizer_tmin, self.sfreq, self.n_times_)
        starts, self.length_ = training_windows(times, self.windows, self.sfreq)
        rng = np.random.default_rng(self.random_state)

        self.align_ = inverse_sqrtm(mean_covariance(X), self.reg)
        F_t = self._aligned_features(X, starts, self.align_)  # (n, ch, n_windows)
        pairs = () if others is None else others
        key = ("aligned-cross-subject others", tuple(starts), self.length_, X.shape[1:], tuple(self.classes_),
               self.n_per_class_others, self.reg, self.random_state)  # fmt: skip
        pool = lambda: self._pool_others(pairs, starts, X.shape[1:], rng)  # noqa: E731
        F_o, y_o, subject_ids = pool() if memo is None else memo.get(key, pool)
        self.n_others_ = int(len(np.unique(subject_ids)))
        self.n_other_epochs_ = int(len(y_o))
        if self.n_others_ == 0:
            logger.info("aligned-cross-subject: no other subject given; training on the target alone.")
        weights = tuple(self.others_weights) if self.n_other_epochs_ else (0.0,)

        def fit_lda(train: np.ndarray, window: int, weight: float) -> WeightedShrinkageLDA:
            feats = np.concatenate([F_t[train, :, window], F_o[:, :, window]])
            labels = np.concatenate([y[train], y_o])
            other_w = weight * len(train) / max(self.n_other_epochs_, 1)
            sample_weight = np.r_[np.ones(len(train)), np.full(self.n_other_epochs_, other_w)]
            return WeightedShrinkageLDA().fit(feats, labels, sample_weight)

        self.cv_scores_ = np.full((len(starts), len(weights)), np.nan)
        best = (0, 0)
        if self.cv_scores_.size > 1:
            cv = make_inner_cv(y, self.n_splits, self.random_state)
            scores = np.zeros_like(self.cv_scores_)
            folds = list(cv.split(F_t[:, :, 0], y))
            for train, test in folds:
                for i in range(len(starts)):
                    for j, weight in enumerate(weights):
                        model = fit_lda(train, i, weight)
                        scores[i, j] += np.mean(model.predict(F_t[test, :, i]) == y[test]) / len(folds)
            self.cv_scores_ = scores
            best = np.unravel_index(int(np.argmax(scores)), scores.shape)
        self.start_ = int(starts[best[0]])
        self.window_ = tuple(float(t) for t in self.windows[best[0]])
        self.others_weight_ = float(weights[best[1]])
        self.classifier_ = fit_lda(np.arange(len(y)), int(best[0]), self.others_weight_)
        return self

    # --------------------------------------------------------------- predict
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs, aligned with the target localizer's statistics."""
        check_is_fitted(self, "classifier_")
        X = check_localizer_epochs(X, self.n_channels_, self.n_times_, keep_float32=True)
        feats = self._aligned_features(X, np.array([self.start_]), self.align_)[:, :, 0]
        return self.classifier_.predict_proba(feats)

    def scan_evidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decision values of every sliding imagine window (the scan of ``toolkit.scan.ImagineScan``).

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            The subject's imagine epochs (the batch's own covariance aligns
            them when ``recenter_imagine``).

        Returns
        -------
        evidence : ndarray, shape (n_epochs, n_windows, n_classes)
        centres : ndarray, shape (n_windows,)
            Centre time (s) of each window.
        """
        check_is_fitted(self, "classifier_")
        X = check_epochs(X, self.n_channels_, keep_float32=True)
        align = inverse_sqrtm(mean_covariance(X), self.reg) if self.recenter_imagine else self.align_
        times = sample_times(self.imagine_tmin, self.sfreq, X.shape[2])
        starts, centres = sliding_windows(times, self.scan, self.length_, self.stride, self.sfreq)
        feats = self._aligned_features(X, starts, align)  # (n, ch, n_windows)
        n, ch, w = feats.shape
        values = evidence(self.classifier_, feats.transpose(0, 2, 1).reshape(-1, ch), "decision_function")
        return values.reshape(n, w, -1), centres

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs from z-scored evidence pooled over sliding windows."""
        return pool_windows(*self.scan_evidence(X), self.pooling, self.sfreq)


DECODER = DecoderSpec(
    name="aligned-cross-subject",
    family="cross-subject",
    description="All subjects' Euclidean-aligned localizers pooled, weighted LDA, scanned over imagery.",
    factory=ContextFactory(AlignedCrossSubjectDecoder),
    uses=frozenset({"others", "memo"}),
    reference="He & Wu 2020, IEEE TBME; Zanini et al. 2018, IEEE TBME",
)
