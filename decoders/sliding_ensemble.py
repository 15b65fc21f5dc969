"""Sliding-window LDA ensemble: one classifier per localizer latency, pooled over imagery.

Instead of betting on one localizer latency, a shrinkage LDA is trained at
every localizer time point from 0.1 to 0.6 s (all of them in one batched
computation, :func:`decoders._lda.fit_lda_batched`), after per-channel
z-scoring and a PCA to 60 components fitted on the localizer only (tSSS
leaves rank ~70). Every one of these classifiers is then applied at every
imagine time point (temporal generalisation, King & Dehaene 2014), because
imagery re-activates perceptual codes at unknown and variable latencies
(Dijkstra et al. 2018). Each classifier's decision values are z-scored per
class over the imagine batch (removing the class offsets a localizer-trained
classifier shows on imagery) and the evidence is averaged over the training
times and the imagine times 0-5 s.

References
----------
King, J.-R., & Dehaene, S. (2014). Characterizing the dynamics of mental
representations: the temporal generalization method. Trends in Cognitive
Sciences, 18(4), 203-210.

Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.

Grootswagers, T., Wardle, S. G., & Carlson, T. A. (2017). Decoding dynamic
brain patterns from evoked responses. J Cogn Neurosci, 29(4), 677-697.
"""

from __future__ import annotations

import numpy as np

from benchmark.contract import DecoderSpec
from decoders._generalization import GeneralizationEnsemble
from decoders._scan import ContextFactory
from decoders._time import time_mask


class SlidingLDAEnsemble(GeneralizationEnsemble):
    """Uniform ensemble of per-latency shrinkage LDAs, generalised over imagery.

    Parameters
    ----------
    sfreq, localizer_tmin, imagine_tmin, scan, n_components, shrinkage
        See *Common parameters* of :class:`decoders._scan.ImagineClassifierMixin`.
    train_window : tuple of float
        Localizer interval (s, inclusive) whose every sample gets an LDA, all
        with the same weight.
    half_window : float
        Half-width (s) of the moving average applied to localizer and
        imagine data before the LDA (0: single samples).
    random_state : int or None
        Seed (PCA).

    Attributes
    ----------
    classes_ : ndarray of str, shape (n_classes,)
        Class labels.
    projection_ : ChannelProjection
        Fitted channel z-scoring and PCA.
    train_index_ : ndarray of int, shape (n_train_times,)
        Localizer samples with an LDA.
    weights_ : ndarray, shape (n_train_times,)
        Their weights (uniform).
    coef_ : ndarray, shape (n_train_times, n_classes, n_features)
        LDA weights per training time.
    intercept_ : ndarray, shape (n_train_times, n_classes)
        LDA intercepts per training time.
    n_times_ : int
        Localizer samples per epoch.

    See Also
    --------
    decoders.temporal_generalization.WeightedTemporalGeneralization :
        the same ensemble over all localizer times, weighted by their
        cross-validated accuracy.
    """

    def __init__(
        self,
        *,
        sfreq: float = 100.0,
        localizer_tmin: float = -0.2,
        imagine_tmin: float = -0.2,
        train_window: tuple[float, float] = (0.1, 0.6),
        scan: tuple[float, float] = (0.0, 5.0),
        n_components: int | str | None = "rank",
        half_window: float = 0.02,
        shrinkage: float | str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.sfreq = sfreq
        self.localizer_tmin = localizer_tmin
        self.imagine_tmin = imagine_tmin
        self.train_window = train_window
        self.scan = scan
        self.n_components = n_components
        self.half_window = half_window
        self.shrinkage = shrinkage
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> SlidingLDAEnsemble:
        """Fit one LDA per localizer sample in ``train_window``.

        ``X``: localizer epochs (n_epochs, n_channels, n_times), not modified; ``y``: item names.
        """
        Z, y, _ = self._fit_projection(X, y)
        mask = time_mask(self.localizer_tmin, self.sfreq, Z.shape[2], self.train_window, "train_window")
        self._fit_models(Z, y, mask.astype(float))
        return self


DECODER = DecoderSpec(
    name="sliding-ensemble",
    family="time-resolved",
    description="One shrinkage LDA per localizer time 0.1-0.6 s, all generalised over imagery, averaged.",
    factory=ContextFactory(SlidingLDAEnsemble),
    reference="King & Dehaene 2014, Trends Cogn Sci; Dijkstra et al. 2018, eLife",
)
