"""Lasso logistic replay decoder with pre-stimulus "null data" negatives (Liu/Kern).

The decoder of the human replay studies: one L1-regularised (lasso)
logistic regression per item, one-vs-rest, trained on the localizer at the
latency of best decoding (chosen per subject by a shrinkage-LDA inner
cross-validation on the localizer, a cheap proxy for the same curve), with
an equal amount of *null data* (pre-stimulus samples, -0.2..0 s of the
localizer epochs) added to the training set as an extra class. The null
examples are negatives for every item's classifier, which makes the item
classifiers less correlated with one another and more specific (Liu et al.
2019; Kurth-Nelson et al. 2016). The null class is dropped from the output:
probabilities are over the ten items only (each item's one-vs-rest sigmoid,
normalised). On imagery, the item classifiers' log-odds time courses are
smoothed, z-scored per item over the imagine batch and averaged over 0-5 s.

scikit-learn 1.9 deprecates ``penalty='l1'`` and its liblinear solver
refuses more than two classes: hence ``OneVsRestClassifier(
LogisticRegression(l1_ratio=1, solver='liblinear'))``.

References
----------
Liu, Y., Dolan, R. J., Kurth-Nelson, Z., & Behrens, T. E. J. (2019). Human
replay spontaneously reorganizes experience. Cell, 178(3), 640-652.

Kurth-Nelson, Z., Economides, M., Dolan, R. J., & Dayan, P. (2016). Fast
sequences of non-spatial state representations in humans. Neuron, 91(1),
194-204.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderSpec
from decoders.toolkit.model_selection import make_inner_cv
from decoders.toolkit.scan import ContextFactory, ImagineClassifierMixin, LocalizerProjectionMixin
from decoders.toolkit.times import moving_average, sample_times, time_mask, window_width
from decoders.toolkit.validation import check_epochs, check_localizer_epochs

#: Label of the null class; never one of the item names.
NULL_LABEL = "__null__"


def draw_null_indices(
    candidates: np.ndarray, n_epochs: int, ratio: float, random_state: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Pick (epoch, sample) pairs of null data, each epoch used at most ``ceil(ratio)`` times.

    Parameters
    ----------
    candidates : ndarray of int
        Pre-stimulus sample indices eligible as null data.
    n_epochs : int
        Number of localizer epochs.
    ratio : float
        Null examples per labelled epoch (> 0).
    random_state : int or None
        Seed of the draw.

    Returns
    -------
    epochs, samples : ndarray of int, shape (n_null,)
        ``n_null = round(ratio * n_epochs)`` pairs.
    """
    if ratio <= 0:
        raise ValueError(f"null_ratio must be > 0, got {ratio}.")
    if len(candidates) == 0:
        raise ValueError("No pre-stimulus sample is available as null data.")
    rng = np.random.default_rng(random_state)
    n_null = max(1, int(round(ratio * n_epochs)))
    epochs = np.resize(rng.permutation(n_epochs), n_null)
    samples = rng.choice(candidates, size=n_null, replace=True)
    return epochs, samples


class LogRegL1NullDecoder(LocalizerProjectionMixin, ImagineClassifierMixin, BaseEstimator):
    """One-vs-rest L1 logistic regression at the localizer peak, with null-data negatives.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin, search, half_window, n_components, scan, n_splits
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    null_window : tuple of float
        Localizer interval (s) from which null data are drawn; samples whose
        averaging window would reach past its end are excluded.
    null_ratio : float
        Null examples per labelled localizer epoch.
    C : float
        Inverse L1 regularisation strength of each logistic regression.
    smooth : float
        Half-width (s) of the moving average applied to the imagine log-odds
        time courses.
    random_state : int or None
        Seed of the inner cross-validation, the null-data draw, the PCA and
        liblinear.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        The item names (the null class excluded).
    projection_, n_times_
        See *Attributes* of :class:`decoders.toolkit.scan.LocalizerProjectionMixin`.
    cv_curve_ : ndarray, shape (n_localizer_times,)
        Inner-CV shrinkage-LDA accuracy at each localizer time.
    peak_index_ : int
        Localizer sample of the training window.
    peak_time_ : float
        Its latency (s).
    pipeline_ : Pipeline
        ``StandardScaler`` + ``OneVsRestClassifier(LogisticRegression)``
        fitted on items and null data.
    item_columns_ : ndarray of int, shape (n_classes,)
        Columns of ``pipeline_``'s outputs holding the items, in
        ``classes_`` order.
    n_null_ : int
        Null examples used.
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        search: tuple[float, float] = (0.05, 0.6),
        half_window: float = 0.02,
        null_window: tuple[float, float] = (-0.2, 0.0),
        null_ratio: float = 1.0,
        C: float = 1.0,
        n_components: int | str | None = "rank",
        smooth: float = 0.05,
        scan: tuple[float, float] = (0.0, 5.0),
        n_splits: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.search = search
        self.half_window = half_window
        self.null_window = null_window
        self.null_ratio = null_ratio
        self.C = C
        self.n_components = n_components
        self.smooth = smooth
        self.scan = scan
        self.n_splits = n_splits
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: np.ndarray, y: np.ndarray) -> LogRegL1NullDecoder:
        """Pick the peak by inner CV, then fit the lasso classifiers with null data.

        ``X``: localizer epochs (n_epochs, n_channels, n_times), not modified; ``y``: item names.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        from decoders.toolkit.lda import cross_val_accuracy_over_time

        Z, y, classes = self._fit_projection(X, y)
        if NULL_LABEL in set(classes.tolist()):
            raise ValueError(f"{NULL_LABEL!r} is reserved for the null class and cannot be an item name.")
        cv = make_inner_cv(y, self.n_splits, self.random_state)
        curve = cross_val_accuracy_over_time(Z, y, cv).mean(axis=0)
        self._set_peak(curve, window_width(self.half_window, self.sfreq))
        times = sample_times(self.localizer_tmin, self.sfreq, Z.shape[2])

        start, stop = self.null_window
        pre = (start, stop - self.half_window)
        if pre[1] < times[0] - 0.5 / self.sfreq:
            raise ValueError(
                f"null_window={self.null_window} s minus half_window={self.half_window} s leaves no "
                f"pre-stimulus sample (epochs start at {times[0]:.3f} s)."
            )
        null_candidates = np.flatnonzero(
            time_mask(self.localizer_tmin, self.sfreq, Z.shape[2], pre, "null_window")
        )
        epochs, samples = draw_null_indices(null_candidates, len(X), self.null_ratio, self.random_state)
        null = Z[epochs, :, samples]  # (n_null, p)
        self.n_null_ = len(null)
        features = np.vstack([Z[:, :, self.peak_index_], null])
        labels = np.concatenate([y.astype(object), np.full(len(null), NULL_LABEL, dtype=object)]).astype(str)
        logreg = LogisticRegression(
            l1_ratio=1.0, C=self.C, solver="liblinear", random_state=self.random_state
        )
        self.pipeline_ = make_pipeline(StandardScaler(), OneVsRestClassifier(logreg)).fit(features, labels)
        fitted = list(self.pipeline_.classes_)
        self.item_columns_ = np.array([fitted.index(c) for c in classes.tolist()])
        return self

    # -------------------------------------------------------------- predict
    def _item_log_odds(self, features: np.ndarray) -> np.ndarray:
        """Each item classifier's log-odds, items only: (n, n_classes)."""
        return np.asarray(self.pipeline_.decision_function(features))[:, self.item_columns_]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Item probabilities of localizer-format epochs at the peak (null class dropped).

        Each item's one-vs-rest sigmoid, normalised over the items.
        """
        from scipy.special import expit

        check_is_fitted(self, "pipeline_")
        X = check_localizer_epochs(X, self.projection_.n_channels_, self.n_times_)
        proba = expit(self._item_log_odds(self._projected(X)[:, :, self.peak_index_]))
        total = proba.sum(axis=1, keepdims=True)
        return np.where(total > 0, proba / np.where(total > 0, total, 1.0), 1.0 / proba.shape[1])

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Smoothed log-odds of each item's classifier at every imagine time."""
        check_is_fitted(self, "pipeline_")
        X = check_epochs(X, self.projection_.n_channels_)
        F = self._projected(X)
        n, p, t = F.shape
        log_odds = self._item_log_odds(F.transpose(0, 2, 1).reshape(-1, p)).reshape(n, t, -1)
        smoothed = moving_average(log_odds.transpose(0, 2, 1), window_width(self.smooth, self.sfreq))
        return smoothed.transpose(0, 2, 1)


DECODER = DecoderSpec(
    name="logreg-l1-null",
    family="linear",
    description="One-vs-rest lasso logistic regression at the localizer peak, with pre-stimulus null data.",
    factory=ContextFactory(LogRegL1NullDecoder),
    reference="Liu et al. 2019, Cell; Kurth-Nelson et al. 2016, Neuron",
)
