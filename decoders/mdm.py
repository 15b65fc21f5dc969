"""Minimum distance to the Riemannian mean of each class's window covariances, scanned over imagery.

Channels are z-scored and reduced by PCA (fitted on the localizer); each
window is described by its OAS-shrunk second moment (not centred: epochs are
baseline-corrected); pyriemann's MDM keeps one Riemannian mean per class.
Its distances (pyriemann's, computed batch-wise) are the evidence
(``method='transform'``, smaller is better).

References
----------
Barachant, A., Bonnet, S., Congedo, M., & Jutten, C. (2012). Multiclass
brain-computer interface classification by Riemannian geometry. IEEE Trans
Biomed Eng, 59(4), 920-928.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA + window second moments (OAS) + minimum distance to Riemannian class means."""
    from pyriemann.classification import MDM
    from sklearn.pipeline import make_pipeline

    from decoders.toolkit.scan import window_scan
    from decoders.toolkit.spatial import BatchCovariances, ChannelPCA, oas_second_moment, riemann_distance

    classifier = make_pipeline(
        BatchCovariances(oas_second_moment), MDM(metric={"mean": "riemann", "distance": riemann_distance})
    )
    return window_scan(classifier, context, ChannelPCA(30), method="transform")


DECODER = DecoderSpec(
    name="mdm", family="riemannian", factory=make, reference="Barachant et al. 2012, IEEE TBME"
)
