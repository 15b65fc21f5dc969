"""Timing oracle: lda-peak's localizer classifier, pooled over each trial's true imagery interval.

Available only on simulated data and never ranked. It is ``lda-peak``
unchanged (channel PCA, peak window chosen by inner CV on the localizer,
shrinkage LDA, the same evidence course over imagery, z-scored per class
over the imagine batch) except for one thing it could not know on real
data: it averages the evidence over each trial's *true* imagery samples
(from the simulator's ground truth) instead of pooling over 0-5 s without
labels. Read beside ``lda-peak`` and ``oracle-transfer`` it splits the
robustness matrix's gap in two:

* ``lda-peak`` -> ``oracle-timing``: what not knowing *when* imagery
  happens costs (the pooling's share);
* ``oracle-timing`` -> ``oracle-transfer``: what the localizer-trained
  classifier loses against the true visual patterns, even at the right
  time (the classifier's and the dimensionality reduction's share).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from benchmark.contract import DecoderContext, DecoderSpec
from decoders.oracle_transfer import imagery_mask, true_imagery
from decoders.toolkit.bases import fit_or_take
from decoders.toolkit.evidence import zscore_over_batch


class TimingOracleDecoder(ClassifierMixin, BaseEstimator):
    """A scan decoder's evidence averaged over the true imagery interval of each trial.

    Parameters
    ----------
    scan : ImagineScan
        The unfitted scan decoder whose evidence course is pooled (its own
        pooling is not used); its time axes (``sfreq``, ``localizer_tmin``,
        ``imagine_tmin``) are the oracle's.
    scan_name : str
        The registered name of ``scan``'s decoder: a fit of it handed to
        :meth:`fit` as ``fitted[scan_name]`` is used instead of fitting ``scan``
        (:func:`decoders.toolkit.bases.fit_or_take`).

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        The scan decoder's classes.
    scan_ : ImagineScan
        The fitted scan decoder.
    truth_ : dict
        The true imagery (:func:`decoders.oracle_transfer.true_imagery`).
    """

    def __init__(self, scan=None, scan_name: str = "") -> None:
        self.scan = scan
        self.scan_name = scan_name

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        truth: dict[str, np.ndarray],
        fitted: Mapping[str, object] | None = None,
    ) -> TimingOracleDecoder:
        """Fit the scan decoder on the localizer (or take its handed fit); keep the true imagery intervals.

        ``X``, ``y``, ``truth``: as in :meth:`decoders.oracle_transfer.TransferOracleDecoder.fit`;
        ``fitted``: the harness's fits by decoder name (``DecoderSpec.builds_on``).
        """
        if self.scan is None:
            raise ValueError("oracle-timing: give the scan decoder whose evidence to pool (scan=...).")
        self.truth_ = true_imagery(truth, "oracle-timing")  # checked before the costly fit
        self.scan_ = fit_or_take(self.scan, X, y, fitted, self.scan_name)
        self.classes_ = self.scan_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Localizer epochs -> the scan decoder's probabilities (timing is known there)."""
        check_is_fitted(self)
        return self.scan_.predict_proba(X)

    def predict_proba_imagine(self, X: np.ndarray) -> np.ndarray:
        """Imagine epochs (the subject's own, in file order) -> probabilities.

        The scan's z-scored evidence summed over each trial's true imagery
        windows, divided by the square root of their number.
        """
        check_is_fitted(self)
        values, centres = self.scan_.scan_evidence(X)
        sfreq, tmin = self.scan_.sfreq, self.scan_.imagine_tmin
        mask = imagery_mask(self.truth_, tmin, sfreq, len(X), X.shape[2], "oracle-timing")
        samples = np.clip(np.rint((centres - tmin) * sfreq).astype(int), 0, X.shape[2] - 1)
        inside = mask[:, samples].astype(np.float64)  # (n_epochs, n_positions)
        z = zscore_over_batch(values, (0, 1))
        counts = inside.sum(axis=1)
        logits = np.einsum("nwk,nw->nk", z, inside) / np.sqrt(np.maximum(counts, 1.0))[:, None]
        return softmax(logits, axis=1)


def make(context: DecoderContext) -> TimingOracleDecoder:
    """Return ``lda-peak``'s decoder wrapped in the timing oracle."""
    from decoders.lda_peak import DECODER as lda_peak

    return TimingOracleDecoder(scan=lda_peak.factory(context), scan_name=lda_peak.name)


DECODER = DecoderSpec(
    name="oracle-timing",
    family="oracle",
    description="Simulation only, not ranked: lda-peak with its evidence averaged over each trial's true "
    "imagery interval (what knowing when imagery happens would give it).",
    factory=make,
    uses=frozenset({"truth"}),
    ranked=False,
    reference="Diagnostic of this benchmark (see docs/robustness.md)",
    builds_on=("lda-peak",),
)
