"""Minimum distance to the Riemannian mean of each class's band-limited covariances, scanned over imagery.

Channel PCA to the data's rank (fitted on the localizer); a bank of six narrow alpha-beta bands
(7-30 Hz), the band chosen by 3-fold inner CV on the localizer; OAS covariances of a 0.1-0.7 s
window, reduced to 20 x 20 by one-vs-rest CSP filters (one per class at each end); pyriemann's
MDM keeps one Riemannian mean per class. Its distances (pyriemann's, computed batch-wise) are the
evidence (``method='transform'``, smaller is better).

Until issue 23 it took broadband second moments of 30 PCA components: the broadband 1/f and alpha
background dominates every distance, and the discarded low-variance components held the class
topographies, so its localizer accuracy was at chance.

References
----------
Barachant, A., Bonnet, S., Congedo, M., & Jutten, C. (2012). Multiclass
brain-computer interface classification by Riemannian geometry. IEEE Trans
Biomed Eng, 59(4), 920-928.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """PCA (rank) + alpha/beta bank, best band (inner CV) + CSP-reduced covariances + MDM, scanned."""
    from pyriemann.classification import MDM

    from decoders.toolkit.scan import band_scan
    from decoders.toolkit.spatial import BatchCovariances, OneVsRestCSP, riemann_distance

    mdm = MDM(metric={"mean": "riemann", "distance": riemann_distance})
    return band_scan(
        context, "signal", BatchCovariances(), OneVsRestCSP(n_filters=1, log=False), mdm, method="transform"
    )


DECODER = DecoderSpec(
    name="mdm", family="riemannian", factory=make, reference="Barachant et al. 2012, IEEE TBME"
)
