"""xDAWN covariances in the Riemannian tangent space, scanned across imagery.

Per subject: channels are standardised and reduced by PCA fitted on the
localizer (tSSS data have rank ~69 of 306 channels); xDAWN spatial filters
(2 per class by default) are learnt on a localizer window, and each window is
described by the OAS-shrunk second moment of its class prototypes stacked
with its xDAWN-filtered signals (super-trial matrix); the matrices are mapped
to the tangent space at their Riemannian mean and classified by shrinkage
LDA. The second moment is not centred over the window (epochs are
baseline-corrected): a class pattern held through a whole imagery window is
a constant that centring would erase (on simulated data with full transfer,
centring dropped imagine accuracy from 0.33 to 0.11, localizer unchanged).
The training window is a parameter: given several candidates, the best is
chosen by inner cross-validation on the localizer (one window by default,
for speed). On imagery, the same pipeline is applied to sliding windows of
the same length over 0-5 s; each class's decision values are z-scored over
the imagine batch (no labels) and averaged over windows.

References
----------
Rivet, B., Souloumiac, A., Attina, V., & Gibert, G. (2009). xDAWN algorithm
to enhance evoked potentials: application to brain-computer interface. IEEE
Trans Biomed Eng, 56(8), 2035-2043.

Barachant, A., & Congedo, M. (2014). A plug & play P300 BCI using
information geometry. arXiv:1409.0107.

Barachant, A., Bonnet, S., Congedo, M., & Jutten, C. (2012). Multiclass
brain-computer interface classification by Riemannian geometry. IEEE Trans
Biomed Eng, 59(4), 920-928.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Return a fresh xDAWN-covariance tangent-space decoder (PCA 60, 2 xDAWN filters per class).

    With 10 classes, 2 filters give 40-dimensional super-trial matrices (820
    tangent features) that a 0.55 s window (56 samples) can estimate; 4 give
    3240 features, ill-estimated and ~20 s per LDA fit.
    """
    from pyriemann.estimation import XdawnCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    from decoders._scan import window_scan
    from decoders._spatial import ChannelPCA, oas_second_moment

    classifier = make_pipeline(
        XdawnCovariances(nfilter=2, estimator=oas_second_moment, xdawn_estimator="oas"),
        TangentSpace(metric="riemann"),
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    )
    return window_scan(classifier, context, ChannelPCA(60))


DECODER = DecoderSpec(
    name="xdawn-riemann",
    family="riemannian",
    description="PCA + xDAWN super-trial matrices (OAS) + tangent space + LDA, scanned over imagery.",
    factory=make,
    reference="Rivet et al. 2009, IEEE TBME; Barachant & Congedo 2014, arXiv:1409.0107",
)
