"""``ImagineScan``: train a classifier on one localizer window, scan it over imagery.

The meta-estimator behind most decoders, in the pattern of MNE's
``SlidingEstimator``: it wraps a plain scikit-learn classifier (or a
Pipeline) that classifies one window of epochs, and owns everything about
time:

1. the label-free ``preprocessor`` (e.g. :class:`decoders.toolkit.spatial.ChannelPCA`),
   fitted on the localizer's whole epochs and applied to whole imagine epochs;
2. the localizer training window: fixed, chosen among candidate
   ``windows`` by inner cross-validation of the classifier, or (``windows=None``)
   centred on the latency where a time-resolved shrinkage LDA decodes the
   localizer best inside ``search`` (inner CV too);
3. the scan of imagery: the same classifier applied to windows of the same
   length over ``scan``, every ``stride`` s;
4. the evidence, taken from the classifier's ``method``, z-scored per class
   over the imagine batch (no labels) and pooled over the scan into
   probabilities (:data:`decoders.toolkit.evidence.POOLINGS`).

What the classifier sees is set by ``window_input``: ``'mean'`` hands it the
time average of the window, ``(n_epochs, n_features)``, e.g. a shrinkage LDA;
``'window'`` hands it the window itself, ``(n_epochs, n_features,
n_window_times)``, e.g. a pyriemann pipeline that starts with covariances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from decoders.toolkit.evidence import DEFAULT_POOLING, check_pooling, pooled_proba
from decoders.toolkit.model_selection import make_inner_cv, pick_peak, seed_estimator
from decoders.toolkit.spectral import chosen_band_only
from decoders.toolkit.times import (
    moving_average,
    sample_times,
    time_mask,
    training_windows,
    window_starts,
    window_width,
)
from decoders.toolkit.validation import check_epochs, check_labels, check_localizer_epochs

#: Where evidence comes from: classifier method -> sign (transform returns distances: smaller is better).
METHODS: dict[str, float] = {"decision_function": 1.0, "predict_log_proba": 1.0, "transform": -1.0}
WINDOW_INPUTS: tuple[str, ...] = ("mean", "window")


def check_method(classifier, method: str, owner: str = "ImagineScan") -> None:
    """Raise at fit if ``classifier`` cannot give evidence through ``method``.

    Parameters
    ----------
    classifier : estimator
        The (unfitted) classifier or Pipeline.
    method : str
        One of :data:`METHODS`.
    owner : str
        Who asks, named in the message.

    Raises
    ------
    ValueError
        If ``method`` is unknown or the classifier lacks it; the message
        lists the methods the classifier has.
    """
    if method not in METHODS:
        raise ValueError(f"{owner}: method must be one of {sorted(METHODS)}, got {method!r}.")
    if not hasattr(classifier, method):
        name = type(classifier).__name__
        if hasattr(classifier, "steps"):
            name = f"Pipeline ending in {type(classifier.steps[-1][1]).__name__}"
        has = [m for m in METHODS if hasattr(classifier, m)]
        raise ValueError(
            f"{owner}: the classifier ({name}) has no {method}; pass method= one of {has} "
            "('transform' for distances such as pyriemann's MDM, smaller is better)"
            if has
            else f"{owner}: the classifier ({name}) has none of {sorted(METHODS)}; wrap a classifier "
            "that gives per-class evidence."
        )


def evidence(classifier, features: np.ndarray, method: str) -> np.ndarray:
    """Per-class evidence of a fitted classifier, larger meaning more likely: (n, n_classes)."""
    values = np.asarray(getattr(classifier, method)(features), dtype=float)
    if values.ndim == 1:  # binary scikit-learn decision_function
        values = np.c_[-values, values] / 2
    return METHODS[method] * values


def route_fit_params(
    steps: dict[str, object], fit_params: dict, owner: str = "ImagineScan"
) -> dict[str, dict]:
    """Route fit parameters to the steps whose ``fit`` takes them by name.

    Parameters
    ----------
    steps : dict of str to estimator or None
        The meta-estimator's steps by parameter name (None: no such step).
    fit_params : dict
        Keyword arguments given to the meta-estimator's ``fit``.
    owner : str
        Who routes, named in the message.

    Returns
    -------
    dict of str to dict
        For every step name, the parameters it receives (each one whole, not
        split by the inner cross-validation).

    Raises
    ------
    TypeError
        If a parameter is taken by no step; the message names the steps.
    """
    from sklearn.utils.validation import has_fit_parameter

    routed: dict[str, dict] = {name: {} for name in steps}
    for key, value in fit_params.items():
        takers = [name for name, step in steps.items() if step is not None and has_fit_parameter(step, key)]
        if not takers:
            raise TypeError(
                f"{owner}.fit got {key!r}, which none of its steps ({', '.join(steps)}) takes in its fit."
            )
        for name in takers:
            routed[name][key] = value
    return routed


def cv_accuracy(model, X: np.ndarray, y: np.ndarray, cv, fit_params: dict | None = None) -> float:
    """Mean accuracy of clones of ``model`` over ``cv``'s folds, each fitted with ``fit_params`` whole.

    Like :func:`sklearn.model_selection.cross_val_score` with the default
    scorer, except that no fit parameter is split by fold (a sequence of
    other subjects is not one value per epoch) and a failing fit raises.

    Parameters
    ----------
    model : classifier
        Unfitted estimator; cloned for every fold.
    X : ndarray, shape (n_samples, ...)
        Inputs.
    y : ndarray, shape (n_samples,)
        Labels.
    cv : cross-validation splitter
        For example :func:`decoders.toolkit.model_selection.make_inner_cv`.
    fit_params : dict or None
        Keyword arguments of every fit.

    Returns
    -------
    float
    """
    fit_params = fit_params or {}
    scores = [
        clone(model).fit(X[train], y[train], **fit_params).score(X[test], y[test])
        for train, test in cv.split(X, y)
    ]
    return float(np.mean(scores))


def stride_samples(stride: float | None, sfreq: float) -> int:
    """Return the samples between scanned windows for a ``stride`` in s (None: every sample)."""
    return 1 if stride is None else max(1, int(round(stride * sfreq)))


def sliding_windows(
    times: np.ndarray, scan: tuple[float, float], length: int, stride: float | None, sfreq: float
) -> tuple[np.ndarray, np.ndarray]:
    """Locate the windows an imagine scan evaluates: inside ``scan``, one every ``stride`` s.

    Parameters
    ----------
    times : ndarray, shape (n_times,)
        Time of each imagine sample (s).
    scan : tuple of float
        Imagine interval (s) the windows lie in.
    length : int
        Samples per window.
    stride : float or None
        Step (s) between windows; None: every sample.
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    starts : ndarray of int, shape (n_windows,)
        First sample of each window.
    centres : ndarray, shape (n_windows,)
        Centre time (s) of each window.
    """
    starts = window_starts(times, scan, length, stride_samples(stride, sfreq))
    return starts, times[starts] + (length - 1) / (2 * sfreq)


def pool_windows(values: np.ndarray, centres: np.ndarray, pooling: str, sfreq: float) -> np.ndarray:
    """Probabilities from the evidence of scanned windows (:func:`decoders.toolkit.evidence.pooled_proba`).

    Parameters
    ----------
    values : ndarray, shape (n_epochs, n_windows, n_classes)
        Evidence of every window (larger: more likely).
    centres : ndarray, shape (n_windows,)
        Their centre times (s); their median spacing is the pooling's step.
    pooling : str
        A key of :data:`decoders.toolkit.evidence.POOLINGS`.
    sfreq : float
        Sampling rate (Hz): the step of a single window.

    Returns
    -------
    ndarray, shape (n_epochs, n_classes)
    """
    step = float(np.median(np.diff(centres))) if len(centres) > 1 else 1.0 / sfreq
    return pooled_proba(values, pooling, step)


class ImagineClassifierMixin(ClassifierMixin):
    """What every imagine decoder shares: ``predict``, the scan mask, pooled imagine probabilities.

    Subclasses define ``classes_``, ``predict_proba`` and, for the default
    :meth:`predict_proba_imagine`, ``imagine_time_course`` and the
    parameters ``sfreq``, ``imagine_tmin``, ``scan`` (and optionally
    ``pooling``).

    The shapes every decoder's methods share (their docstrings say only
    what is their own):

    - ``predict_proba(X)``: localizer-format epochs ``(n_epochs, n_channels,
      n_localizer_times)`` -> ``(n_epochs, n_classes)``;
    - ``predict_proba_imagine(X)``: the subject's whole batch of imagine
      epochs ``(n_epochs, n_channels, n_imagine_times)`` (statistics over
      the batch normalise each class's evidence) -> ``(n_epochs, n_classes)``;
    - ``imagine_time_course(X)``: imagine epochs -> evidence
      ``(n_epochs, n_imagine_times, n_classes)``.

    Common parameters of the decoders that use it (each documents the rest):

    sfreq, localizer_tmin, imagine_tmin : float
        The data's time axes (:meth:`benchmark.contract.DecoderContext.time_params`).
    search : tuple of float
        Localizer interval (s) in which the decoding peak is searched.
    half_window : float
        Half-width (s) of the window averaged around the peak, and of the
        moving average applied to imagine (and null) data.
    n_components : int, 'rank' or None
        Components of the :class:`decoders.toolkit.spatial.ChannelPCA` fitted on the
        localizer (None: z-scored channels, no PCA).
    scan : tuple of float
        Imagine interval (s) over which evidence is pooled.
    n_splits : int
        Folds of the inner cross-validation
        (:func:`decoders.toolkit.model_selection.make_inner_cv`).
    shrinkage : 'auto' or float
        LDA covariance shrinkage: Ledoit-Wolf ('auto') or fixed in [0, 1].
    random_state : int or None
        Seed of the inner cross-validation and the PCA (a decoder with other
        random steps says so).
    """

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of localizer-format epochs, shape (n_epochs,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def scan_mask(self, n_times: int) -> np.ndarray:
        """Imagine samples inside ``scan`` (the one interval rule), shape (n_times,)."""
        return time_mask(self.imagine_tmin, self.sfreq, n_times, self.scan, "scan")

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs -> (n_epochs, n_classes): the evidence course pooled over ``scan``.

        Each class is z-scored over the batch's epochs and scanned times (no
        labels) before pooling (:func:`decoders.toolkit.evidence.pooled_proba`).
        """
        return self.pool_time_course(self.imagine_time_course(X))

    def pool_time_course(self, course: np.ndarray) -> np.ndarray:
        """Probabilities from ``imagine_time_course``'s output: what :meth:`predict_proba_imagine` returns.

        The harness, which also plots the course, computes it once and
        pools it here (:mod:`benchmark.contract`).
        """
        pooling = getattr(self, "pooling", DEFAULT_POOLING)
        return pooled_proba(course[:, self.scan_mask(course.shape[1])], pooling, 1.0 / self.sfreq)


class LocalizerProjectionMixin:
    """The localizer scaffolding of decoders with their own estimator: projection and peak.

    For estimators with the common parameters ``sfreq``, ``localizer_tmin``,
    ``n_components``, ``half_window`` and ``search`` (see
    :class:`ImagineClassifierMixin`): a :class:`decoders.toolkit.spatial.ChannelPCA`
    fitted on the localizer, followed by the ``half_window`` moving average,
    and the peak of an accuracy curve inside ``search``.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels, sorted.
    projection_ : ChannelPCA
        Fitted channel z-scoring and PCA.
    n_times_ : int
        Localizer samples per epoch.
    """

    def _fit_projection(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate, set ``classes_``, ``n_times_`` and ``projection_``; return ``(Z, y, classes)``.

        ``Z`` (n_epochs, n_features, n_times) is the projected, smoothed localizer.
        """
        from decoders.toolkit.spatial import ChannelPCA

        X = check_epochs(X)
        y, classes = check_labels(X, y)
        self.classes_ = classes
        self.n_times_ = X.shape[2]
        self.projection_ = ChannelPCA(self.n_components).fit(X)
        return self._projected(X), y, classes

    def _projected(self, X: np.ndarray) -> np.ndarray:
        """Projected epochs (any length), smoothed by the ``half_window`` moving average."""
        return moving_average(self.projection_.transform(X), window_width(self.half_window, self.sfreq))

    def _set_peak(self, curve: np.ndarray, width: int = 1) -> None:
        """Set ``cv_curve_`` to ``curve``; ``peak_index_``, ``peak_time_``: its best sample inside ``search``.

        ``width``: samples of the moving average applied to ``curve`` first
        (:func:`decoders.toolkit.model_selection.pick_peak`).
        """
        search = time_mask(self.localizer_tmin, self.sfreq, len(curve), self.search, "search")
        self.cv_curve_ = curve
        self.peak_index_ = pick_peak(curve, search, width)
        self.peak_time_ = float(sample_times(self.localizer_tmin, self.sfreq, len(curve))[self.peak_index_])


class ImagineScan(ImagineClassifierMixin, BaseEstimator):
    """A window classifier trained on the localizer and scanned over imagery.

    Parameters
    ----------
    classifier : estimator
        scikit-learn classifier (or Pipeline) on one window (see
        ``window_input``); cloned at fit, every nested ``random_state`` set
        to ``random_state``. Needs ``method``; ``predict_proba`` is used for
        localizer epochs when it has one.
    preprocessor : transformer or None
        Fitted on whole localizer epochs without labels, applied to whole
        epochs before windows are cut (channel PCA, filter banks). None: raw
        epochs.
    sfreq, localizer_tmin, imagine_tmin : float
        The data's time axes (:meth:`benchmark.contract.DecoderContext.time_params`).
    windows : sequence of (float, float) or None
        Candidate localizer training windows (s), all of one duration; with
        several, the best is chosen by inner CV of ``classifier``. None: a
        window of half-width ``half_window`` centred on the localizer's
        decoding peak inside ``search`` (inner CV of a shrinkage LDA per
        time point on the preprocessed epochs).
    search : tuple of float
        Localizer interval (s) of the peak search (``windows=None`` only).
    half_window : float
        Half-width (s) of the peak window (``windows=None`` only).
    window_input : {'mean', 'window'}
        ``'mean'``: the classifier sees the window's time average; imagine
        windows are centred on every ``stride`` sample inside ``scan`` (the
        epoch's edge samples repeat where a window overhangs, as a moving
        average with scipy's ``'nearest'`` mode). ``'window'``: the
        classifier sees the window's samples; imagine windows lie inside
        ``scan``.
    scan : tuple of float
        Imagine interval (s) that is scanned.
    stride : float or None
        Step (s) between scanned imagine windows; None: every sample.
    method : {'decision_function', 'predict_log_proba', 'transform'}
        Where the evidence comes from; ``'transform'`` is for distances
        (smaller is better, e.g. pyriemann's MDM). Checked at fit.
    pooling : str
        How evidence over the scan becomes one logit per class, a key of
        :data:`decoders.toolkit.evidence.POOLINGS` (``'adaptive'``, the default:
        a soft maximum under a label-free time prior, for sustained, brief
        or repeated imagery alike; ``'mean'``; ``'max'``).
    n_splits : int
        Folds of the inner cross-validation (window or peak choice).
    random_state : int or None
        Seed of the inner CV and of every nested estimator.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels, sorted.
    preprocessor_ : transformer or None
        Fitted preprocessor.
    classifier_ : estimator
        Classifier fitted on the training window.
    predictor_ : tuple or None
        A front end and classifier giving the numbers of ``preprocessor_``
        and ``classifier_`` with less work, used to predict
        (:func:`decoders.toolkit.spectral.chosen_band_only`: a filter bank's
        chosen band only), or None.
    start_, length_ : int
        First localizer sample and length (samples) of the training window
        (``start_`` may be negative for a peak window at the epoch's edge in
        ``'mean'`` input, whose average repeats the edge sample).
    window_ : tuple of float
        Training window (s).
    window_scores_ : ndarray, shape (n_candidates,)
        Inner-CV accuracy of each candidate window (NaN if not compared).
    cv_curve_ : ndarray, shape (n_localizer_times,) or None
        Inner-CV LDA accuracy per localizer time (peak search only).
    peak_index_ : int or None
        Centre sample of the peak window (peak search only).

    See Also
    --------
    mne.decoding.SlidingEstimator : the same idea, one classifier per time.
    """

    def __init__(
        self,
        classifier=None,
        preprocessor=None,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        windows: Sequence[tuple[float, float]] | None = ((0.05, 0.6),),
        search: tuple[float, float] = (0.05, 0.6),
        half_window: float = 0.02,
        window_input: str = "window",
        scan: tuple[float, float] = (0.0, 5.0),
        stride: float | None = 0.1,
        method: str = "decision_function",
        pooling: str = DEFAULT_POOLING,
        n_splits: int = 3,
        random_state: int | None = None,
    ) -> None:
        self.classifier = classifier
        self.preprocessor = preprocessor
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.windows = windows
        self.search = search
        self.half_window = half_window
        self.window_input = window_input
        self.scan = scan
        self.stride = stride
        self.method = method
        self.pooling = pooling
        self.n_splits = n_splits
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _check_params(self) -> None:
        if self.classifier is None:
            raise ValueError("ImagineScan needs a classifier, got None.")
        check_method(self.classifier, self.method)
        check_pooling(self.pooling)
        if self.window_input not in WINDOW_INPUTS:
            raise ValueError(f"window_input must be one of {WINDOW_INPUTS}, got {self.window_input!r}.")
        if self.stride is not None and self.stride <= 0:
            raise ValueError(f"stride must be positive (s) or None, got {self.stride}.")

    def _window(self, Z: np.ndarray, start: int) -> np.ndarray:
        """Return what the classifier sees of the window starting at ``start``."""
        if self.window_input == "mean":
            return moving_average(Z, self.length_)[:, :, start + self.length_ // 2]
        return Z[:, :, start : start + self.length_]

    def fit(self, X: np.ndarray, y: np.ndarray, **fit_params) -> ImagineScan:
        """Fit the preprocessor, choose the training window, fit the classifier there.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs; not modified.
        y : array-like of str, shape (n_epochs,)
            Item names.
        **fit_params
            Handed whole to the ``fit`` of each step (``preprocessor``,
            ``classifier``) that takes a parameter of that name
            (:func:`sklearn.utils.validation.has_fit_parameter`), at every fit,
            the inner cross-validation's included: e.g. the ``others`` and
            ``memo`` a cross-subject decoder receives
            (:class:`benchmark.contract.DecoderSpec` ``uses``). A name no step
            takes is an error.

        Returns
        -------
        self : ImagineScan
        """
        self._check_params()
        steps = {"preprocessor": self.preprocessor, "classifier": self.classifier}
        routed = route_fit_params(steps, fit_params)
        X = check_epochs(X)
        y, self.classes_ = check_labels(X, y)
        self.n_channels_, self.n_times_ = X.shape[1], X.shape[2]
        self.preprocessor_ = None
        Z = X
        if self.preprocessor is not None:
            self.preprocessor_ = seed_estimator(clone(self.preprocessor), self.random_state)
            Z = self.preprocessor_.fit_transform(X, **routed["preprocessor"])
        times = sample_times(self.localizer_tmin, self.sfreq, self.n_times_)
        self.cv_curve_ = self.peak_index_ = None
        if self.windows is None:
            from decoders.toolkit.lda import cross_val_accuracy_over_time

            self.length_ = window_width(self.half_window, self.sfreq)
            cv = make_inner_cv(y, self.n_splits, self.random_state)
            self.cv_curve_ = cross_val_accuracy_over_time(Z, y, cv).mean(axis=0)
            search = time_mask(self.localizer_tmin, self.sfreq, self.n_times_, self.search, "search")
            self.peak_index_ = pick_peak(self.cv_curve_, search, self.length_)
            starts = np.array([self.peak_index_ - self.length_ // 2])
            if self.window_input == "window":
                starts = np.clip(starts, 0, self.n_times_ - self.length_)
        else:
            starts, self.length_ = training_windows(times, self.windows, self.sfreq)
        self.window_scores_ = np.full(len(starts), np.nan)
        best = 0
        if len(starts) > 1:
            cv = make_inner_cv(y, self.n_splits, self.random_state)
            for k, start in enumerate(starts):
                model = seed_estimator(clone(self.classifier), self.random_state)
                window = self._window(Z, start)
                self.window_scores_[k] = cv_accuracy(model, window, y, cv, routed["classifier"])
            best = int(np.argmax(self.window_scores_))
        self.start_ = int(starts[best])
        first, last = max(self.start_, 0), min(self.start_ + self.length_, self.n_times_) - 1
        self.window_ = (float(times[first]), float(times[last]))
        self.classifier_ = seed_estimator(clone(self.classifier), self.random_state)
        self.classifier_.fit(self._window(Z, self.start_), y, **routed["classifier"])
        self.predictor_ = chosen_band_only(self.preprocessor_, self.classifier_)
        return self

    def _predictor(self, X: np.ndarray) -> tuple[np.ndarray, object]:
        """Preprocessed epochs and the classifier that reads them, for prediction."""
        predictor = getattr(self, "predictor_", None)
        if predictor is None:
            return self.transform_epochs(X), self.classifier_
        check_is_fitted(self, "classifier_")
        return predictor[0].transform(check_epochs(X, self.n_channels_)), predictor[1]

    # --------------------------------------------------------------- predict
    def transform_epochs(self, X: np.ndarray) -> np.ndarray:
        """Preprocessed whole epochs (any length): (n, n_channels, t) -> (n, n_features, t)."""
        check_is_fitted(self, "classifier_")
        X = check_epochs(X, self.n_channels_)
        return X if self.preprocessor_ is None else self.preprocessor_.transform(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of localizer-format epochs on the training window.

        The classifier's ``predict_proba``, or the softmax of its
        evidence when it has none.
        """
        check_is_fitted(self, "classifier_")
        X = check_localizer_epochs(X, self.n_channels_, self.n_times_)
        Z, classifier = self._predictor(X)
        features = self._window(Z, self.start_)
        if hasattr(classifier, "predict_proba"):
            return classifier.predict_proba(features)
        return softmax(evidence(classifier, features, self.method), axis=1)

    def _stride_samples(self) -> int:
        return stride_samples(self.stride, self.sfreq)

    def _course(self, Z: np.ndarray, classifier) -> np.ndarray:
        """Evidence of the moving-average window centred on every sample: (n, t, K)."""
        F = moving_average(Z, self.length_)
        n, p, t = F.shape
        flat = F.transpose(0, 2, 1).reshape(-1, p)
        return evidence(classifier, flat, self.method).reshape(n, t, -1)

    def _windows_evidence(self, Z: np.ndarray, starts: np.ndarray, classifier) -> np.ndarray:
        """Evidence of the windows starting at ``starts``, batched to bound memory: (n, W, K)."""
        n, p = Z.shape[:2]
        view = np.lib.stride_tricks.sliding_window_view(Z, self.length_, axis=2)  # (n, p, t', L)
        per_chunk = max(1, int(2e7 // (n * p * self.length_)))
        blocks = []
        for first in range(0, len(starts), per_chunk):
            chunk = starts[first : first + per_chunk]
            windows = view[:, :, chunk].transpose(2, 0, 1, 3).reshape(-1, p, self.length_)
            blocks.append(evidence(classifier, windows, self.method).reshape(len(chunk), n, -1))
        return np.concatenate(blocks).transpose(1, 0, 2)

    def scan_evidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evidence of every scanned imagine window, before normalisation and pooling.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_imagine_times)
            Imagine epochs.

        Returns
        -------
        evidence : ndarray, shape (n_epochs, n_windows, n_classes)
        centres : ndarray, shape (n_windows,)
            Centre time (s) of each window.
        """
        Z, classifier = self._predictor(X)
        times = sample_times(self.imagine_tmin, self.sfreq, Z.shape[2])
        if self.window_input == "mean":
            centres = self._course_centres(Z.shape[2])
            return self._course(Z, classifier)[:, centres], times[centres]
        starts, centres = sliding_windows(times, self.scan, self.length_, self.stride, self.sfreq)
        return self._windows_evidence(Z, starts, classifier), centres

    def _course_centres(self, n_times: int) -> np.ndarray:
        """Imagine samples the ``'mean'`` scan evaluates: every ``stride`` inside ``scan``."""
        return np.flatnonzero(self.scan_mask(n_times))[:: self._stride_samples()]

    def _has_course(self) -> bool:
        return self.window_input == "mean"

    @available_if(_has_course)
    def imagine_time_course(self, X: np.ndarray) -> np.ndarray:
        """Evidence of the window centred on every imagine sample (``window_input='mean'`` only)."""
        return self._course(*self._predictor(X))

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of imagine epochs from evidence pooled over the scan."""
        return pool_windows(*self.scan_evidence(X), self.pooling, self.sfreq)

    @available_if(_has_course)
    def pool_time_course(self, course: np.ndarray) -> np.ndarray:
        """Probabilities from ``imagine_time_course``'s output (``window_input='mean'`` only)."""
        centres = self._course_centres(course.shape[1])
        times = sample_times(self.imagine_tmin, self.sfreq, course.shape[1])
        return pool_windows(course[:, centres], times[centres], self.pooling, self.sfreq)


def peak_scan(classifier, context, *, n_components: int | str | None = "rank", **params) -> ImagineScan:
    """Build the usual peak-window scan: channel PCA, window at the localizer peak, every sample.

    Parameters
    ----------
    classifier : estimator
        Classifier on window means ``(n_epochs, n_components)``.
    context : DecoderContext
        The subject's sampling rate, time axes and seed.
    n_components : int, 'rank' or None
        Dimensionality of the :class:`decoders.toolkit.spatial.ChannelPCA` (None:
        z-scored channels).
    **params
        Other :class:`ImagineScan` parameters (e.g. ``pooling='max'``).

    Returns
    -------
    ImagineScan
    """
    from decoders.toolkit.spatial import ChannelPCA

    defaults = dict(windows=None, window_input="mean", stride=None, n_splits=5)
    return ImagineScan(
        classifier,
        ChannelPCA(n_components),
        **context.time_params(),
        random_state=context.random_state,
        **{**defaults, **params},
    )


def window_scan(classifier, context, preprocessor=None, **params) -> ImagineScan:
    """Build the usual window scan: the classifier sees whole windows, every 0.1 s over 0-5 s.

    Parameters
    ----------
    classifier : estimator
        Classifier (typically a Pipeline) on windows ``(n_epochs, n_features, n_window_times)``.
    context : DecoderContext
        The subject's sampling rate, time axes and seed.
    preprocessor : transformer or None
        Whole-epoch preprocessing fitted on the localizer (e.g. a
        :class:`decoders.toolkit.spatial.ChannelPCA`).
    **params
        Other :class:`ImagineScan` parameters (e.g. ``windows``, ``method``).

    Returns
    -------
    ImagineScan
    """
    return ImagineScan(
        classifier, preprocessor, **context.time_params(), random_state=context.random_state, **params
    )


def band_scan(context, output: str, *steps, **params) -> ImagineScan:
    """Build the power decoders' scan: rank PCA, the alpha/beta filter bank, the best band by inner CV.

    Shared by ``csp-lda``, ``band-power`` and ``mdm``: whole epochs are reduced
    to the data's rank (at most :data:`~decoders.toolkit.spatial.SSS_DIMENSION`
    components: on full-rank data the rest is sensor noise, and 306-channel
    covariances of every imagine window cost minutes) and split into
    :data:`~decoders.toolkit.spectral.ALPHA_BETA_BANDS` (one FFT for all
    bands); for ``output='signal'`` each band is whitened by its own
    covariance over the localizer's epochs (:class:`~decoders.toolkit.spectral.BlockWhitening`,
    label-free), so that the steps' covariance shrinkage pulls towards the
    band's background rather than the sensors' power; ``steps`` run on the
    band chosen by inner cross-validation on the localizer, trained on the
    0.1-0.7 s window.

    Parameters
    ----------
    context : DecoderContext
        The subject's sampling rate, time axes and seed.
    output : {'signal', 'log-envelope'}
        What the filter bank gives the steps (see :class:`~decoders.toolkit.spectral.FilterBank`).
    *steps : estimators
        Unfitted steps on one band's windows, ending in a classifier.
    **params
        Other :class:`ImagineScan` parameters (e.g. ``method``).

    Returns
    -------
    ImagineScan
    """
    from sklearn.pipeline import make_pipeline

    from decoders.toolkit.spatial import SSS_DIMENSION, ChannelPCA
    from decoders.toolkit.spectral import ALPHA_BETA_BANDS, BlockWhitening, FilterBank, best_band

    n_bands = len(ALPHA_BETA_BANDS)
    bank = FilterBank(context.sfreq, ALPHA_BETA_BANDS, output=output, method="fft")
    front = [ChannelPCA("rank", max_components=SSS_DIMENSION), bank]
    if output == "signal":
        front.append(BlockWhitening(n_bands))
    classifier = best_band(n_bands, *steps, random_state=context.random_state)
    return window_scan(classifier, context, make_pipeline(*front), windows=((0.1, 0.7),), **params)


class ContextFactory:
    """A decoder factory for estimators whose only context parameters are the time axes and the seed.

    ``ContextFactory(Estimator)(context)`` returns
    ``Estimator(**context.time_params(), random_state=context.random_state)``,
    a fresh estimator at every call; picklable, unlike a lambda.

    Parameters
    ----------
    estimator : type
        The estimator class.
    """

    def __init__(self, estimator: type) -> None:
        self.estimator = estimator

    def __call__(self, context):
        """Return a fresh, unfitted ``estimator`` for ``context``'s data."""
        return self.estimator(**context.time_params(), random_state=context.random_state)

    def __repr__(self) -> str:
        return f"ContextFactory({self.estimator.__name__})"
