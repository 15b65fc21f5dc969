"""Transfer ceiling: the true localizer patterns, matched over each trial's true imagery interval.

Available only on simulated data and never ranked. It knows, from the
simulator's ground truth, each class's true *visual* (localizer) sensor
pattern and each imagine trial's true imagery interval(s), and nothing of
the non-visual part of imagery nor of its amplitude. For each imagine trial
it averages the data over the trial's true interval(s) and scores each class
with the whitened matched filter of the class's visual pattern, normalised
by the pattern's whitened norm (the generalised likelihood ratio for a
pattern of unknown positive amplitude). The noise covariance comes from the
localizer only (its residuals around the class-mean evoked responses, or its
pre-stimulus baseline), never from imagine labels.

When the simulation has induced (oscillatory) class activity, it also knows
each class's true induced localizer topography and the subject's band: each
trial is band-passed, and each class scored by the log power, over the
trial's true imagery samples, of the class's matched spatial filter (the
topography whitened by the band-passed covariance of the imagine batch
outside the true imagery intervals: no labels). With evoked and induced
activity both present, the two scores are z-scored per class over the
batch and added. Without induced activity nothing of this runs, and the
scores are those of the evoked oracle alone.

It is the best a decoder trained on the localizer could do if it knew when
imagery happens: the robustness matrix reads every ranked decoder as a
fraction of this ceiling's margin above chance. The ``oracle`` decoder
(true *imagery* patterns and envelopes) stays the ceiling of the simulation
itself; at ``alpha = 1`` the two coincide up to amplitude knowledge, at
``alpha = 0`` this one is at chance by construction.

References
----------
Kay, S. M. (1998). Fundamentals of Statistical Signal Processing, Vol. II:
Detection Theory, ch. 4 and 6 (matched filters, generalised likelihood
ratio). Prentice Hall.

Ledoit, O., & Wolf, M. (2004). A well-conditioned estimator for
large-dimensional covariance matrices. J Multivar Anal, 88(2), 365-411.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec
from decoders.toolkit.scan import ImagineClassifierMixin
from decoders.toolkit.times import sample_times
from decoders.toolkit.validation import check_epochs, check_localizer_epochs

#: Noise models the oracle can whiten with.
NOISE_SOURCES = ("residuals", "baseline")


class TransferOracleDecoder(ImagineClassifierMixin, BaseEstimator):
    """Whitened matched filter of the true visual patterns over the true imagery intervals.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin
        See *Common parameters* of :class:`decoders.toolkit.scan.ImagineClassifierMixin`.
    noise : {"residuals", "baseline"}
        Localizer samples the noise covariance is estimated from: every
        sample minus its class's mean evoked response (uses localizer labels)
        or the pre-stimulus samples only.
    center : bool
        Subtract each class's mean score over the subject's imagine trials
        (no labels): removes the part of the score that every trial shares,
        such as the word's auditory response under an early interval. Off by
        default: on 2 simulated subjects x 3 regimes x 3 alphas it changed
        accuracy by at most 4 trials in 60, in either direction.

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Item names, in the truth's order.
    filters_ : ndarray, shape (n_classes, n_channels)
        Whitened visual patterns ``W p_k``.
    norms_ : ndarray, shape (n_classes,)
        Whitened norms ``sqrt(p_k' W p_k)``.
    localizer_course_ : ndarray, shape (n_localizer_times,)
        True time course of the class response in the localizer.
    imagine_intervals_ : ndarray, shape (n_imagine, n_intervals, 2) or None
        True imagery intervals (s), NaN-padded; None when the truth only has
        envelopes (then ``imagine_envelopes_`` is used).
    imagine_envelopes_ : ndarray, shape (n_imagine, n_imagine_times) or None
        True imagery envelopes, used only without intervals.
    n_channels_ : int
        Channels seen in ``fit``.
    """

    def __init__(
        self,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        noise: str = "residuals",
        center: bool = False,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.noise = noise
        self.center = center

    def fit(self, X: np.ndarray, y: np.ndarray, *, truth: dict[str, np.ndarray]) -> TransferOracleDecoder:
        """Estimate the localizer noise covariance; keep the true visual patterns and intervals.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
            Localizer epochs.
        y : array-like of str, shape (n_epochs,)
            Localizer item names (used by ``noise="residuals"``).
        truth : dict
            The subject's simulator ground truth: ``class_names``,
            ``localizer_patterns``, ``localizer_time_course`` and
            ``imagine_intervals`` (or, from older datasets,
            ``imagine_envelopes``).

        Returns
        -------
        self : TransferOracleDecoder

        Raises
        ------
        ValueError
            If ``noise`` is unknown, the baseline is too short or the truth
            lacks a field.
        """
        if self.noise not in NOISE_SOURCES:
            allowed = " and ".join(repr(n) for n in NOISE_SOURCES)
            raise ValueError(f"oracle-transfer: noise: allowed values are {allowed}, but got {self.noise!r}.")
        missing = [
            k for k in ("class_names", "localizer_patterns", "localizer_time_course") if k not in truth
        ]
        if "imagine_intervals" not in truth and "imagine_envelopes" not in truth:
            missing.append("imagine_intervals")
        if missing:
            raise ValueError(
                f"oracle-transfer needs the simulator's truth with {', '.join(missing)}; "
                "regenerate the dataset with datasets.simulate."
            )
        X = check_epochs(X)
        y = np.asarray(y).astype(str)
        self.classes_ = np.asarray(truth["class_names"]).astype(str)
        patterns = np.asarray(truth["localizer_patterns"], dtype=np.float64)
        if patterns.shape != (len(self.classes_), X.shape[1]):
            raise ValueError(
                f"oracle-transfer: truth has localizer patterns of shape {patterns.shape}, expected "
                f"({len(self.classes_)}, {X.shape[1]}) for these epochs."
            )
        whitener = self._whitener(X, y)
        self.filters_ = patterns @ whitener
        self.norms_ = np.sqrt(np.maximum(np.einsum("kc,kc->k", self.filters_, patterns), 1e-300))
        self.localizer_course_ = np.asarray(truth["localizer_time_course"], dtype=np.float64)
        known = true_imagery(truth, "oracle-transfer")
        self.imagine_intervals_ = known["imagine_intervals"]
        self.imagine_envelopes_ = known["imagine_envelopes"]
        self.n_channels_ = X.shape[1]
        self.evoked_ = bool(np.any(patterns))
        self.induced_patterns_ = self.induced_band_ = self.induced_course_ = None
        induced = truth.get("induced_localizer_patterns")
        if induced is not None and np.any(induced):
            self.induced_patterns_ = np.asarray(induced, dtype=np.float64)
            peak, width = float(truth["induced_peak_hz"]), float(truth["induced_bandwidth_hz"])
            self.induced_band_ = (max(peak - 2 * width, 1.0), min(peak + 2 * width, 0.45 * self.sfreq))
            self.induced_course_ = np.asarray(truth["induced_localizer_time_course"], dtype=np.float64)
        return self

    def _power_scores(self, X: np.ndarray, mask: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Log power of each class's matched spatial filter in the induced band, over ``mask``.

        ``log(mean_t (w_k' x_t)^2 / w_k' S w_k)`` with ``w_k = S^-1 a_k``, ``a_k``
        the true induced topography and ``S`` the Ledoit-Wolf covariance of the
        band-passed ``noise`` samples (n_samples, n_channels): 0 on average
        where the class's oscillation is absent. Shape (n_epochs, n_classes).
        """
        from sklearn.covariance import ledoit_wolf

        from decoders.toolkit.spectral import BandPass

        scale = noise.std(axis=0)
        scale[scale == 0] = 1.0
        cov, _ = ledoit_wolf(noise / scale, assume_centered=True)
        filters = np.linalg.solve(cov, (self.induced_patterns_ / scale).T).T  # (K, C)
        filters /= np.sqrt(np.einsum("kc,cd,kd->k", filters, cov, filters))[:, None]
        filters = filters / scale  # apply to unscaled data
        band = BandPass(self.sfreq, *self.induced_band_).fit_transform(X)
        out = np.empty((len(X), len(filters)))
        for n in range(len(X)):
            segment = band[n][:, mask[n]] if mask[n].any() else band[n]
            out[n] = np.log(np.mean((filters @ segment) ** 2, axis=1))
        return out

    def _band_samples(self, X: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Band-passed samples (n_samples, n_channels) of ``X`` where ``keep`` (n_epochs, n_times)."""
        from decoders.toolkit.spectral import BandPass

        band = BandPass(self.sfreq, *self.induced_band_).fit_transform(X)
        return band.transpose(0, 2, 1)[keep]

    def _whitener(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Inverse of the Ledoit-Wolf noise covariance, in the data's units."""
        from decoders.toolkit.spatial import ledoit_wolf_epochs

        if self.noise == "baseline":
            n_pre = int(round(-self.localizer_tmin * self.sfreq))
            if n_pre < 2:
                raise ValueError(
                    f"oracle-transfer: noise='baseline' needs pre-stimulus localizer samples, got {n_pre}; "
                    "use noise='residuals'."
                )
            noise = X[:, :, :n_pre] - X[:, :, :n_pre].mean(axis=2, keepdims=True)
        else:
            noise = X.copy()
            for label in np.unique(y):
                noise[y == label] -= X[y == label].mean(axis=0)
        scale = noise.std(axis=(0, 2))
        scale[scale == 0] = 1.0
        noise /= scale[None, :, None]
        cov, _ = ledoit_wolf_epochs(noise)
        inverse = np.linalg.inv(cov)
        return inverse / scale[:, None] / scale[None, :]

    def _logits(self, means: np.ndarray, n_samples: np.ndarray) -> np.ndarray:
        """Normalised matched-filter scores ``p_k' W x / |p_k|_W``, times sqrt(samples averaged)."""
        z = means @ self.filters_.T / self.norms_[None, :]
        return z * np.sqrt(np.maximum(n_samples, 1))[:, None]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer epochs -> probabilities, from the true patterns weighted by their true time course."""
        check_is_fitted(self)
        X = check_localizer_epochs(X, self.n_channels_, len(self.localizer_course_))
        if self.induced_patterns_ is not None:
            times = sample_times(self.localizer_tmin, self.sfreq, X.shape[2])
            before = np.broadcast_to(times < 0, X.shape[::2])
            during = np.broadcast_to(self.induced_course_ >= 0.5, X.shape[::2])
            power = self._power_scores(X, during, self._band_samples(X, before))
            if not self.evoked_:
                return softmax(power * np.sqrt(during.sum(axis=1, keepdims=True)), axis=1)
        weights = self.localizer_course_ / np.sum(self.localizer_course_**2)
        means = np.einsum("nct,t->nc", X, weights)
        n_eff = np.full(len(X), np.sum(self.localizer_course_) ** 2 / np.sum(self.localizer_course_**2))
        logits = self._logits(means, n_eff)
        if self.induced_patterns_ is not None:
            logits = _standardised(logits) + _standardised(power)
        return softmax(logits, axis=1)

    def imagery_mask(self, n_epochs: int, n_times: int) -> np.ndarray:
        """Boolean mask (n_epochs, n_times) of each trial's true imagery samples (:func:`imagery_mask`)."""
        check_is_fitted(self)
        known = {"imagine_intervals": self.imagine_intervals_, "imagine_envelopes": self.imagine_envelopes_}
        return imagery_mask(known, self.imagine_tmin, self.sfreq, n_epochs, n_times, "oracle-transfer")

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs (the subject's own, in file order) -> probabilities."""
        check_is_fitted(self)
        X = check_epochs(X, self.n_channels_)
        mask = self.imagery_mask(len(X), X.shape[2])
        counts = mask.sum(axis=1)
        means = np.einsum("nct,nt->nc", X, mask.astype(np.float64)) / np.maximum(counts, 1)[:, None]
        logits = self._logits(means, counts)
        if self.center:
            logits = logits - logits.mean(axis=0, keepdims=True)
        if self.induced_patterns_ is not None:
            times = sample_times(self.imagine_tmin, self.sfreq, X.shape[2])
            quiet = ~mask & (times > 0.6)[None, :]  # outside imagery, after the word: the noise
            power = self._power_scores(X, mask, self._band_samples(X, quiet))
            if not self.evoked_:
                return softmax(power * np.sqrt(np.maximum(counts, 1))[:, None], axis=1)
            logits = _standardised(logits) + _standardised(power)
        return softmax(logits, axis=1)


def _standardised(scores: np.ndarray) -> np.ndarray:
    """Each class's scores z-scored over the batch's epochs (no labels), to add two kinds of evidence."""
    sd = scores.std(axis=0, keepdims=True)
    return (scores - scores.mean(axis=0, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def true_imagery(truth: dict, owner: str) -> dict:
    """Read the true imagery of a subject's imagine trials from the simulator's ground truth.

    Parameters
    ----------
    truth : dict
        Ground truth with ``imagine_intervals`` or, from older datasets,
        ``imagine_envelopes``.
    owner : str
        Decoder name for the error message.

    Returns
    -------
    dict
        ``imagine_intervals`` (float64 array, or None when the truth has only
        envelopes) and ``imagine_envelopes`` (float64 array, or None when
        intervals are known): the input of :func:`imagery_mask`.

    Raises
    ------
    ValueError
        If the truth has neither.
    """
    if "imagine_intervals" in truth:
        return {"imagine_intervals": np.asarray(truth["imagine_intervals"], dtype=np.float64),
                "imagine_envelopes": None}  # fmt: skip
    if "imagine_envelopes" in truth:
        return {"imagine_intervals": None,
                "imagine_envelopes": np.asarray(truth["imagine_envelopes"], dtype=np.float64)}  # fmt: skip
    raise ValueError(
        f"{owner} needs the simulator's truth with imagine_intervals; regenerate the dataset with "
        "datasets.simulate."
    )


def imagery_mask(
    truth: dict, imagine_tmin: float, sfreq: float, n_epochs: int, n_times: int, owner: str
) -> np.ndarray:
    """Boolean mask (n_epochs, n_times) of each imagine trial's true imagery samples.

    Parameters
    ----------
    truth : dict
        ``imagine_intervals`` (n_imagine, n_intervals, 2) in seconds, or, when
        that is None or absent, ``imagine_envelopes`` (n_imagine, n_times):
        samples at or above half the trial's peak.
    imagine_tmin, sfreq : float
        The imagine time axis.
    n_epochs, n_times : int
        Shape of the imagine epochs to mask.
    owner : str
        Decoder name for error messages.

    Raises
    ------
    ValueError
        If the epochs are not the subject's own imagine epochs (another count
        or length).
    """
    intervals = truth.get("imagine_intervals")
    known = intervals if intervals is not None else truth["imagine_envelopes"]
    if n_epochs != len(known):
        raise ValueError(
            f"{owner} knows the imagery of {len(known)} imagine trials, got {n_epochs} epochs; "
            "it only decodes the subject's own imagine epochs in file order."
        )
    if intervals is None:
        if known.shape[1] != n_times:
            raise ValueError(f"{owner}: envelopes have {known.shape[1]} samples, epochs {n_times}.")
        return known >= 0.5 * known.max(axis=1, keepdims=True)
    times = sample_times(imagine_tmin, sfreq, n_times)
    half = 0.5 / sfreq  # the interval rule of decoders.toolkit.times.time_mask, per trial
    inside = (times[None, None, :] >= intervals[..., 0, None] - half) & (
        times[None, None, :] <= intervals[..., 1, None] + half
    )
    return inside.any(axis=1)


def make(context: DecoderContext) -> TransferOracleDecoder:
    """Return a fresh transfer oracle for ``context``'s data."""
    return TransferOracleDecoder(**context.time_params())


DECODER = DecoderSpec(
    name="oracle-transfer",
    family="oracle",
    description="Simulation only, not ranked: whitened matched filter of the true localizer patterns "
    "over each trial's true imagery interval (the transfer ceiling).",
    factory=make,
    uses=frozenset({"truth"}),
    ranked=False,
    reference="Kay 1998, Fundamentals of Statistical Signal Processing II; Ledoit & Wolf 2004",
)
