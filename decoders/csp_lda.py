"""Filter-bank multiclass CSP log-variance + shrinkage LDA, scanned over imagery.

PCA(30); filter bank (< 4, 4-8, 8-13, 13-30 Hz); per band, OAS covariances of a 0.05-0.55 s window ->
multiclass CSP (UWEDGE, filters ranked by mutual information) -> log-variances -> shrinkage LDA; slid
over 0-5 s of imagery. Blind to the sign of an evoked pattern (simulated: 8.6 % imagine, 14.2 % localizer).

References
----------
Blankertz, B., et al. (2008). IEEE Signal Process Mag, 25(1), 41-56. Grosse-Wentrup, M.,
& Buss, M. (2008). IEEE TBME, 55(8), 1991-2000. Ang, K. K., et al. (2008). IJCNN, 2390-2397.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA + filter bank (0-30 Hz) + multiclass CSP log-variance + LDA, scanned over imagery."""
    from pyriemann.spatialfilters import CSP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import window_scan
    from decoders.toolkit.spatial import BatchCovariances, ChannelPCA, joint_diagonalise
    from decoders.toolkit.spectral import FilterBank, per_band

    bands = ((None, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0))  # delta (low-pass), theta, alpha, beta
    csp = CSP(nfilter=6, metric="euclid", log=True, ajd_method=joint_diagonalise)
    preprocessor = make_pipeline(ChannelPCA(30), FilterBank(context.sfreq, bands, output="signal"))
    classifier = make_pipeline(per_band(4, BatchCovariances(), csp), StandardScaler(), shrinkage_lda())
    return window_scan(classifier, context, preprocessor, windows=((0.05, 0.55),))


DECODER = DecoderSpec(
    name="csp-lda",
    family="spectral",
    factory=make,
    reference="Blankertz et al. 2008, IEEE Signal Process Mag; Grosse-Wentrup & Buss 2008, IEEE TBME; "
    "Ang et al. 2008, IJCNN",
)
