"""One-vs-rest CSP log-variance + shrinkage LDA in the subject's best alpha/beta band, scanned over imagery.

Channel PCA to the data's rank (fitted on the localizer); a bank of six narrow alpha-beta bands
(7-30 Hz); the band chosen by 3-fold inner CV on the localizer; OAS covariances of a 0.1-0.7 s
window -> one-vs-rest CSP (2 filters per class at each end) -> log-variances -> shrinkage LDA; slid
over 0-5 s of imagery. Blind to phase-locked (evoked) class signals by design.

Until issue 23 it kept 30 PCA components and 6 multiclass CSP filters: the components of largest
variance are noise (1/f, alpha, artefacts), and the class topographies fell in the discarded ones,
so its localizer accuracy was at chance even on induced (oscillatory) class signals.

References
----------
Blankertz, B., et al. (2008). IEEE Signal Process Mag, 25(1), 41-56. Dornhege, G., et al. (2004).
IEEE TBME, 51(6), 993-1002. Ang, K. K., et al. (2008). IJCNN, 2390-2397.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA (rank) + alpha/beta filter bank + best band (inner CV) + one-vs-rest CSP + LDA, scanned."""
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import band_scan
    from decoders.toolkit.spatial import BatchCovariances, OneVsRestCSP

    return band_scan(
        context, "signal", BatchCovariances(), OneVsRestCSP(n_filters=2), StandardScaler(), shrinkage_lda()
    )


DECODER = DecoderSpec(
    name="csp-lda",
    family="spectral",
    factory=make,
    reference="Blankertz et al. 2008, IEEE Signal Process Mag; Dornhege et al. 2004, IEEE TBME; "
    "Ang et al. 2008, IJCNN",
)
