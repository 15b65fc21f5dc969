"""Shrinkage LDA at the localizer's decoding peak, scanned over imagery.

Channels are z-scored and reduced by PCA (fitted on the localizer); a
shrinkage LDA is trained on the 50 ms window centred on the latency where the
localizer is best decoded (inner CV), then applied to the same window centred
on every imagine sample of 0-5 s (:class:`decoders.toolkit.scan.ImagineScan`).

References
----------
Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.

Grootswagers, T., Wardle, S. G., & Carlson, T. A. (2017). Decoding dynamic
brain patterns from evoked responses. J Cogn Neurosci, 29(4), 677-697.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Shrinkage LDA at the localizer peak (inner CV), scanned over 0-5 s of imagery."""
    from decoders.toolkit.lda import shrinkage_lda
    from decoders.toolkit.scan import peak_scan

    return peak_scan(shrinkage_lda(), context)


DECODER = DecoderSpec(
    name="lda-peak",
    family="linear",
    factory=make,
    reference="Dijkstra et al. 2018, eLife; Grootswagers et al. 2017, J Cogn Neurosci",
)
