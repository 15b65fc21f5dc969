"""One-vs-rest CSP log-variance + shrinkage LDA in the subject's best alpha/beta band, scanned over imagery.

Channel PCA to the data's rank (fitted on the localizer, at most 80 components); a bank of six
narrow alpha-beta bands (7-30 Hz), each whitened by its covariance over the localizer (label-free);
the band chosen by 3-fold inner CV on the localizer; OAS covariances of a 0.1-0.7 s window ->
one-vs-rest CSP (each class's filter of most power) -> log-variances -> shrinkage LDA; slid over
0-5 s of imagery. Blind to phase-locked (evoked) class signals by design.

Issue 23, round two (localizer-only choices): without the band whitening, OAS shrank each window's
covariance towards the sensors' raw power, and the weak class topographies drowned under the
background alpha; with it, the filter of most class power alone (10 features) beat both ends and
two filters per class (20-40 features, overfitted by 48 trials per class) in 3-fold localizer CV
(0.35 / 0.25 vs 0.29 / 0.18 on two simulated subjects whose induced peak sits near their alpha).

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
    """PCA (rank) + whitened alpha/beta bank + best band (inner CV) + one-vs-rest CSP + LDA, scanned."""
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import band_scan
    from decoders.toolkit.spatial import BatchCovariances, OneVsRestCSP

    csp = OneVsRestCSP(n_filters=1, ends="top")
    return band_scan(context, "signal", BatchCovariances(), csp, StandardScaler(), shrinkage_lda())


DECODER = DecoderSpec(
    name="csp-lda",
    family="spectral",
    factory=make,
    reference="Blankertz et al. 2008, IEEE Signal Process Mag; Dornhege et al. 2004, IEEE TBME; "
    "Ang et al. 2008, IJCNN",
)
