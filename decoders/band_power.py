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

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Return a fresh band-power + LDA decoder: PCA 60, alpha and beta log-envelopes, 0.4 s window."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders._scan import window_scan
    from decoders._spatial import ChannelPCA
    from decoders._spectral import FilterBank
    from decoders._time import WindowMean

    bands = ((8.0, 12.0), (13.0, 30.0))
    preprocessor = make_pipeline(ChannelPCA(60), FilterBank(context.sfreq, bands, output="log-envelope"))
    classifier = make_pipeline(
        WindowMean(), StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )
    return window_scan(classifier, context, preprocessor, windows=((0.05, 0.45),))


DECODER = DecoderSpec(
    name="band-power",
    family="spectral",
    description="PCA + alpha/beta log Hilbert envelopes in a window + shrinkage LDA, scanned over imagery.",
    factory=make,
    reference="Xie et al. 2020, Curr Biol; Dijkstra et al. 2017, Sci Rep",
)
