"""Filter-bank multiclass CSP log-variance + shrinkage LDA, scanned across imagery.

Per subject: channels are standardised and reduced by PCA fitted on the
localizer (tSSS data have rank ~69 of 306 channels); the components are
band-passed (zero-phase Butterworth, whole epochs) in a filter bank (delta,
theta, alpha, beta by default); in each band, OAS-shrunk covariances of a
localizer window feed a multiclass CSP (approximate joint diagonalisation by
UWEDGE, filters ranked by mutual information) whose log-variance features,
concatenated over bands, are classified by shrinkage LDA. The training
window is a parameter: given several candidates, the best is chosen by inner
cross-validation on the localizer (one window by default, for speed). On
imagery, the same pipeline is applied to sliding windows of the same length
over 0-5 s; each class's decision values are z-scored over the imagine batch
(no labels) and averaged over windows.

The classic single mu/beta band is ``bands=((8, 30),)``; the filter bank
(Ang et al. 2008) lets the LDA weight whichever band carries the localizer's
class information, including the low-frequency (evoked) bands.

Known limitation: CSP features are variances, blind to the sign of an
evoked class pattern, so on data whose class information is a signed evoked
response (the simulator's, and the contract test's) this decoder stays near
chance on imagery even with full transfer (on the simulated default: 8.6 %
imagine, 14.2 % localizer).

References
----------
Blankertz, B., Tomioka, R., Lemm, S., Kawanabe, M., & Muller, K.-R. (2008).
Optimizing spatial filters for robust EEG single-trial analysis. IEEE Signal
Processing Magazine, 25(1), 41-56.

Grosse-Wentrup, M., & Buss, M. (2008). Multiclass common spatial patterns and
information theoretic feature extraction. IEEE Trans Biomed Eng, 55(8),
1991-2000.

Tichavsky, P., & Yeredor, A. (2009). Fast approximate joint
diagonalization incorporating weight matrices. IEEE Trans Signal Process,
57(3), 878-891.

Ang, K. K., Chin, Z. Y., Zhang, H., & Guan, C. (2008). Filter bank common
spatial pattern (FBCSP) in brain-computer interface. IJCNN 2008, 2390-2397.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Return a fresh filter-bank CSP + LDA decoder: PCA 30, four bands, 6 CSP filters per band."""
    from pyriemann.spatialfilters import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from decoders._scan import window_scan
    from decoders._spatial import BatchCovariances, ChannelPCA, joint_diagonalise
    from decoders._spectral import ChannelBlock, FilterBank

    def csp_step():
        return CSP(nfilter=6, metric="euclid", log=True, ajd_method=joint_diagonalise)

    bands = ((None, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0))  # delta (low-pass), theta, alpha, beta
    per_band = [
        (f"band{k}", make_pipeline(ChannelBlock(k, len(bands)), BatchCovariances(), csp_step()))
        for k in range(len(bands))
    ]
    classifier = make_pipeline(
        FeatureUnion(per_band), StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )
    preprocessor = make_pipeline(ChannelPCA(30), FilterBank(context.sfreq, bands, output="signal"))
    return window_scan(classifier, context, preprocessor, windows=((0.05, 0.55),))


DECODER = DecoderSpec(
    name="csp-lda",
    family="spectral",
    description="PCA + filter bank (0-30 Hz) + multiclass CSP log-variance + LDA, scanned over imagery.",
    factory=make,
    reference=(
        "Blankertz et al. 2008, IEEE Signal Process Mag; Grosse-Wentrup & Buss 2008, IEEE TBME; "
        "Ang et al. 2008, IJCNN"
    ),
)
