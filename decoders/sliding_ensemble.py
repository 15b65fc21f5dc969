"""Sliding-window LDA ensemble: one classifier per localizer latency, pooled over imagery.

Instead of betting on one localizer latency, a shrinkage LDA is trained at
every localizer time point from 0.1 to 0.6 s (one batched computation) after
channel z-scoring and PCA fitted on the localizer. Every one of them is
applied at every imagine time point (temporal generalisation), because
imagery re-activates perceptual codes at unknown and variable latencies.
Decision values are z-scored per class over the imagine batch and averaged
over training times and imagine times 0-5 s
(:class:`decoders.toolkit.generalization.GeneralizationEnsemble`, uniform weights).

References
----------
King & Dehaene (2014), Trends Cogn Sci; Dijkstra et al. (2018), eLife: in full in
:mod:`decoders.toolkit.generalization`.
Grootswagers, T., Wardle, S. G., & Carlson, T. A. (2017). Decoding dynamic
brain patterns from evoked responses. J Cogn Neurosci, 29(4), 677-697.
"""

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """One shrinkage LDA per localizer time 0.1-0.6 s, all generalised over imagery, averaged."""
    from decoders.toolkit.generalization import GeneralizationEnsemble

    return GeneralizationEnsemble(
        **context.time_params(),
        train_window=(0.1, 0.6),
        weighting="uniform",
        random_state=context.random_state,
    )


DECODER = DecoderSpec(
    name="sliding-ensemble",
    family="time-resolved",
    factory=make,
    reference="King & Dehaene 2014, Trends Cogn Sci; Dijkstra et al. 2018, eLife",
)
