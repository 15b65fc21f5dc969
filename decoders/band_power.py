"""Alpha and beta band power (log Hilbert envelope) + shrinkage LDA, scanned over imagery.

PCA(60) on the localizer; each component band-passed (8-12, 13-30 Hz); log
envelopes averaged over a 0.05-0.45 s window; shrinkage LDA; slid over 0-5 s
of imagery. Perception and imagery share alpha-band representations; band
power ignores phase and latency. Known limitation: purely evoked
(phase-locked, low-frequency) class signals leave it at chance.

References
----------
Xie, S., Kaiser, D., & Cichy, R. M. (2020). Curr Biol, 30(13), 2621-2627.
Dijkstra, N., et al. (2017). Sci Rep, 7, 5677.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA + alpha/beta log Hilbert envelopes in a window + shrinkage LDA, scanned over imagery."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import window_scan
    from decoders.toolkit.spatial import ChannelPCA
    from decoders.toolkit.spectral import FilterBank
    from decoders.toolkit.times import WindowMean

    bands = ((8.0, 12.0), (13.0, 30.0))
    preprocessor = make_pipeline(ChannelPCA(60), FilterBank(context.sfreq, bands, output="log-envelope"))
    classifier = make_pipeline(WindowMean(), StandardScaler(), shrinkage_lda())
    return window_scan(classifier, context, preprocessor, windows=((0.05, 0.45),))


DECODER = DecoderSpec(
    name="band-power",
    family="spectral",
    factory=make,
    reference="Xie et al. 2020, Curr Biol; Dijkstra et al. 2017, Sci Rep",
)
