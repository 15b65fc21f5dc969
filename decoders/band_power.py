"""Log band power (Hilbert envelope) in the subject's best alpha/beta band + LDA, scanned over imagery.

Channel PCA to the data's rank (fitted on the localizer); each component's log Hilbert envelope in
six narrow alpha-beta bands (7-30 Hz); the band chosen by 3-fold inner CV on the localizer; log
envelopes averaged over a 0.1-0.7 s window; shrinkage LDA; slid over 0-5 s of imagery. Perception
and imagery share alpha-band representations; band power ignores phase and latency, so purely
evoked (phase-locked, low-frequency) class signals leave it at chance.

Until issue 23 it kept 60 PCA components of the standardised channels and two wide bands (8-12,
13-30 Hz): components of largest variance are noise, wide bands dilute a narrow-band class effect
with the broadband 1/f and alpha background, so its localizer accuracy was at chance.

References
----------
Xie, S., Kaiser, D., & Cichy, R. M. (2020). Curr Biol, 30(13), 2621-2627.
Dijkstra, N., et al. (2017). Sci Rep, 7, 5677.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA (rank) + alpha/beta log envelopes, best band (inner CV), window mean + LDA, scanned."""
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import band_scan
    from decoders.toolkit.times import WindowMean

    return band_scan(context, "log-envelope", WindowMean(), StandardScaler(), shrinkage_lda())


DECODER = DecoderSpec(
    name="band-power",
    family="spectral",
    factory=make,
    reference="Xie et al. 2020, Curr Biol; Dijkstra et al. 2017, Sci Rep",
)
