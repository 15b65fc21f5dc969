"""Alpha and beta band power (Hilbert envelope) + shrinkage LDA, scanned across imagery.

Per subject: channels are standardised and reduced by PCA fitted on the
localizer; each component is band-passed (zero-phase Butterworth, whole
epochs) in the alpha (8-12 Hz) and beta (13-30 Hz) bands, and the log of its
Hilbert amplitude envelope is averaged over a localizer window; a shrinkage
LDA classifies these band-power features. The training window is chosen
among candidates by inner cross-validation on the localizer. On imagery, the
same features are computed in sliding windows of the same length over
0-5 s; each class's decision values are z-scored over the imagine batch (no
labels) and averaged over windows.

Perception and imagery share alpha-band representations (Xie et al. 2020;
Dijkstra et al. 2017), while their evoked time courses differ; band power is
insensitive to the phase and precise latency of the response.

Known limitation: purely evoked (phase-locked, low-frequency) class signals
carry almost no alpha/beta power, so on such data this decoder sits at
chance by design.

References
----------
Xie, S., Kaiser, D., & Cichy, R. M. (2020). Visual imagery and perception
share neural representations in the alpha frequency band. Current Biology,
30(13), 2621-2627.

Dijkstra, N., Zeidman, P., Ondobaka, S., van Gerven, M. A. J., & Friston, K.
(2017). Distinct top-down and bottom-up brain connectivity during visual
perception and imagery. Scientific Reports, 7, 5677.
"""

from __future__ import annotations

from benchmark.contract import DecoderContext, DecoderSpec

#: Default bands (Hz): alpha and beta.
BANDS: tuple[tuple[float, float], ...] = ((8.0, 12.0), (13.0, 30.0))


def make(
    context: DecoderContext,
    *,
    n_components: int = 60,
    bands: tuple[tuple[float, float], ...] = BANDS,
    windows: tuple[tuple[float, float], ...] = ((0.05, 0.45),),
    stride: float = 0.1,
):
    """Return a fresh band-power + LDA decoder.

    Parameters
    ----------
    context : DecoderContext
        Facts about the subject's data (sampling rate, time axes, seed).
    n_components : int
        PCA components kept before filtering.
    bands : tuple of (float, float)
        Frequency bands (Hz) whose log-envelopes are the features.
    windows : tuple of (float, float)
        Candidate localizer training windows (s), same length; compared by
        inner cross-validation on the localizer.
    stride : float
        Step (s) between sliding imagine windows.

    Returns
    -------
    WindowScanDecoder
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders._windows import EpochsPCA, FilterBank, WindowMean, WindowScanDecoder

    classifier = make_pipeline(
        WindowMean(),
        StandardScaler(),
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    )
    preprocessor = make_pipeline(
        EpochsPCA(n_components), FilterBank(context.sfreq, bands, output="log-envelope")
    )
    return WindowScanDecoder(
        classifier,
        preprocessor,
        **context.time_params(),
        windows=windows,
        scan=(0.0, 5.0),
        stride=stride,
        random_state=context.random_state,
    )


DECODER = DecoderSpec(
    name="band-power",
    family="spectral",
    description="PCA + alpha/beta log Hilbert envelopes in a window + shrinkage LDA, scanned over imagery.",
    factory=make,
    reference="Xie et al. 2020, Curr Biol; Dijkstra et al. 2017, Sci Rep",
)
