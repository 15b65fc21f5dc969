"""xDAWN super-trial matrices in the Riemannian tangent space, scanned over imagery.

PCA(60) on the localizer; 2 xDAWN filters per class learnt on a 0.05-0.6 s
window; each window's OAS second moment of prototypes stacked with its
filtered signals, not centred (centring erased a held imagery pattern: 0.33
-> 0.11 on simulated full transfer); tangent space; shrinkage LDA; slid over
0-5 s of imagery. 2 filters x 10 classes: 820 tangent features, which a
56-sample window can estimate (4 filters: 3240, ill-estimated, ~20 s a fit).

References
----------
Rivet, B., et al. (2009). xDAWN algorithm. IEEE Trans Biomed Eng, 56(8), 2035-2043.
Barachant, A., & Congedo, M. (2014). A plug & play P300 BCI. arXiv:1409.0107.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA + xDAWN super-trial matrices (OAS) + tangent space + LDA, scanned over imagery."""
    from pyriemann.estimation import XdawnCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import make_pipeline

    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import window_scan
    from decoders.toolkit.spatial import ChannelPCA, oas_second_moment

    xdawn = XdawnCovariances(nfilter=2, estimator=oas_second_moment, xdawn_estimator="oas")
    classifier = make_pipeline(xdawn, TangentSpace(metric="riemann"), shrinkage_lda())
    return window_scan(classifier, context, ChannelPCA(60))


DECODER = DecoderSpec(
    name="xdawn-riemann",
    family="riemannian",
    factory=make,
    reference="Rivet et al. 2009, IEEE TBME; Barachant & Congedo 2014, arXiv:1409.0107",
)
