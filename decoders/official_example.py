"""The organisers' example notebook, reproduced: the challenge's published baseline.

The IMAGINE decoding challenge's ``examples/simple-decoding-example.ipynb``
(github.com/skjerns/imagine-decoding-challenge), section 3-4, per subject:

1. ``make_pipeline(RobustScaler(), LogisticRegression(C=10, penalty='l1',
   solver='liblinear', max_iter=1000))`` trained on the localizer at the
   visual peak: the notebook's text says "the mean values of the visual
   peak, which was around 200ms", its code takes the single sample
   ``t = 40`` (0.2 s after the picture, epochs starting at -0.2 s). This
   file takes the sample nearest to ``train_time`` = 0.2 s from the data's
   own time axis.
2. ``predict_proba`` at every imagine sample of the scanned window: the
   notebook scores ``range(120)``, the first 1.2 s of the epoch (-0.2 to
   0.99 s), the default ``scan=(None, 0.99)`` here (bounds included, as in
   every decoder: :func:`decoders.toolkit.times.time_mask`).
3. Each class's probability divided by its mean over all imagine trials and
   scanned times of the subject (``probas / probas.mean(0).mean(0)``), then
   summed (averaged) over time; the item with the largest sum wins.

Differences, each deliberate:

- scikit-learn 1.9 refuses ``penalty='l1'`` with liblinear for ten classes;
  with liblinear, older versions fitted one binary problem per class and
  normalised their probabilities, which is exactly
  ``OneVsRestClassifier(LogisticRegression(l1_ratio=1, solver='liblinear'))``.
- The notebook refits one classifier object in a loop and stores it for
  every participant, so all were decoded with the last participant's model;
  here the factory returns a fresh estimator per fit, so that bug cannot
  happen.
- Its Kaggle submission cell scored another window (``range(20, 100)``,
  0 to 0.79 s) with the median over time; ``scan=(0.0, 0.79)`` and
  ``aggregate="median"`` reproduce that variant.
- The notebook's ``epochs.get_data()`` included the ECG and EOG channels;
  the harness hands decoders the MEG channels only.
- Probabilities are the per-trial sums normalised to 1 (the same argmax).

References
----------
Kern, S., et al. (2024). Reactivation strength during cued recall is
modulated by graph distance within cognitive maps. eLife, 12, RP93357 (the
study whose data the challenge uses; its README cites it).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderSpec
from decoders.toolkit.scan import ContextFactory, ImagineClassifierMixin
from decoders.toolkit.times import sample_times
from decoders.toolkit.validation import check_epochs, check_localizer_epochs

logger = logging.getLogger(__name__)

#: How the normalised probabilities are pooled over the scanned times.
AGGREGATES = ("mean", "median")


class OfficialExampleDecoder(ImagineClassifierMixin, BaseEstimator):
    """RobustScaler + one-vs-rest L1 logistic regression at 200 ms, summed over imagine time.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    train_time : float
        Localizer time (s) whose sample trains the classifier (nearest sample).
    scan : tuple of (float or None, float or None)
        Imagine times ``[start, stop]`` (s) that are scored; None: the
        epoch's first or last sample.
    aggregate : {"mean", "median"}
        Pooling of the normalised probabilities over the scanned times.
    C : float
        Inverse L1 regularisation strength of each binary logistic regression.
    max_iter : int
        Iterations of liblinear.
    random_state : int or None
        Seed of liblinear.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Item names.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted RobustScaler + OneVsRestClassifier.
    train_index_ : int
        Localizer sample the classifier was trained on.
    n_localizer_times_ : int
        Samples per localizer epoch seen in ``fit``.
    n_convergence_warnings_ : int
        ConvergenceWarnings liblinear raised during ``fit`` (caught and counted).
    """

    def __init__(
        self,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        train_time: float = 0.2,
        scan: tuple[float | None, float | None] = (None, 0.99),
        aggregate: str = "mean",
        C: float = 10.0,
        max_iter: int = 1000,
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.train_time = train_time
        self.scan = scan
        self.aggregate = aggregate
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def _make_pipeline(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import RobustScaler

        return make_pipeline(
            RobustScaler(),
            OneVsRestClassifier(
                LogisticRegression(
                    C=self.C,
                    l1_ratio=1.0,
                    solver="liblinear",
                    max_iter=self.max_iter,
                    random_state=self.random_state,
                )
            ),
        )

    def fit(self, X: np.ndarray, y: np.ndarray) -> OfficialExampleDecoder:
        """Fit the classifier on the localizer sample nearest ``train_time``.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs.
        y : array-like of str, shape (n_epochs,)
            Item names.

        Returns
        -------
        self : OfficialExampleDecoder

        Raises
        ------
        ValueError
            If ``aggregate`` is unknown or ``train_time`` lies outside the epochs.
        """
        from sklearn.exceptions import ConvergenceWarning

        if self.aggregate not in AGGREGATES:
            allowed = " and ".join(repr(a) for a in AGGREGATES)
            raise ValueError(
                f"official-example: aggregate: allowed values are {allowed}, but got {self.aggregate!r}."
            )
        X = check_epochs(X)
        y = np.asarray(y)
        times = sample_times(self.localizer_tmin, self.sfreq, X.shape[2])
        if not times[0] - 0.5 / self.sfreq <= self.train_time <= times[-1] + 0.5 / self.sfreq:
            raise ValueError(
                f"official-example: train_time {self.train_time} s is outside the localizer epochs "
                f"({times[0]:.3f} to {times[-1]:.3f} s)."
            )
        self.train_index_ = int(np.argmin(np.abs(times - self.train_time)))
        pipeline = self._make_pipeline()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            pipeline.fit(X[:, :, self.train_index_], y)
        self.n_convergence_warnings_ = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        for w in caught:  # anything else is not ours to hide
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if self.n_convergence_warnings_:
            logger.info(
                "official-example: liblinear did not converge in %d of %d binary fits (max_iter=%d)",
                self.n_convergence_warnings_,
                len(np.unique(y)),
                self.max_iter,
            )
        self.pipeline_ = pipeline
        self.classes_ = pipeline.classes_
        self.n_channels_ = X.shape[1]
        self.n_localizer_times_ = X.shape[2]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer epochs -> probabilities at the training sample."""
        check_is_fitted(self)
        X = check_localizer_epochs(X, self.n_channels_, self.n_localizer_times_)
        return self.pipeline_.predict_proba(X[:, :, self.train_index_])

    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Per-class-normalised probabilities at every scanned imagine time.

        Each class's probability divided by its mean over the epochs and
        scanned times (the notebook's ``probas / probas.mean(0).mean(0)``).
        """
        check_is_fitted(self)
        X = check_epochs(X, self.n_channels_)
        picked = X[:, :, self.scan_mask(X.shape[2])]
        n, n_ch, n_t = picked.shape
        proba = self.pipeline_.predict_proba(picked.transpose(0, 2, 1).reshape(-1, n_ch)).reshape(n, n_t, -1)
        return proba / proba.mean(axis=(0, 1), keepdims=True)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs -> normalised probabilities pooled over time, rescaled to sum to 1."""
        return self.pool_time_course(self.imagine_time_course(X))

    def pool_time_course(self, course: np.ndarray) -> np.ndarray:
        """Probabilities from ``imagine_time_course``'s output: pooled over time, rescaled to sum to 1."""
        pooled = course.mean(axis=1) if self.aggregate == "mean" else np.median(course, axis=1)
        return pooled / pooled.sum(axis=1, keepdims=True)


DECODER = DecoderSpec(
    name="official-example",
    family="linear",
    description="The organisers' example notebook: RobustScaler + one-vs-rest L1 logistic regression "
    "(C=10) at 200 ms, per-class-normalised probabilities summed over the first 1.2 s of imagery.",
    factory=ContextFactory(OfficialExampleDecoder),
    reference="IMAGINE decoding challenge example notebook (Kern et al. 2024, eLife data)",
)
