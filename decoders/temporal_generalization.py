"""Accuracy-weighted temporal generalisation from the localizer to imagery.

The full temporal-generalisation matrix (King & Dehaene 2014): a shrinkage
LDA is trained at every localizer time point (one batched computation, after
channel z-scoring and PCA fitted on the localizer) and tested at every
imagine time point. Training times are weighted by their inner-CV accuracy
on the localizer above chance, minus a margin of one binomial standard error
(zero at or below it), so that pre-stimulus and late, undecodable latencies
do not dilute the evidence. Each training time's decision values are
z-scored per class over the imagine batch, averaged with those weights, then
over imagine times 0-5 s. Imagery re-activates the perceptual code at
latencies that differ from perception and between trials (Dijkstra et al.
2018), which the generalisation over all imagine times tolerates
(:class:`decoders.toolkit.generalization.GeneralizationEnsemble`).

References
----------
King & Dehaene (2014), Trends Cogn Sci; Dijkstra et al. (2018), eLife: in full in
:mod:`decoders.toolkit.generalization`.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Localizer x imagine generalisation, training times weighted by inner-CV accuracy."""
    from decoders.toolkit.generalization import GeneralizationEnsemble

    return GeneralizationEnsemble(
        **context.time_params(), weighting="accuracy", random_state=context.random_state
    )


DECODER = DecoderSpec(
    name="temporal-generalization",
    family="time-resolved",
    factory=make,
    reference="King & Dehaene 2014, Trends Cogn Sci; Dijkstra et al. 2018, eLife",
)
