"""Shrinkage LDA at the localizer's decoding peak, scanned across imagery.

The standard localizer-to-imagery transfer decoder: per subject, the latency
of best localizer decoding is chosen by cross-validation on the localizer
alone; a Ledoit-Wolf shrinkage LDA is trained on a 50 ms window there and
applied to every imagine time point from word onset to 5 s, its decision
values averaged over time.

References
----------
Dijkstra, N., Mostert, P., de Lange, F. P., Bosch, S., & van Gerven, M. A.
(2018). Differential temporal dynamics during visual imagery and perception.
eLife, 7, e33904.

Grootswagers, T., Wardle, S. G., & Carlson, T. A. (2017). Decoding dynamic
brain patterns from evoked responses. J Cogn Neurosci, 29(4), 677-697.
"""

from __future__ import annotations

from benchmark.contract import DecoderContext, DecoderSpec


def make(context: DecoderContext):
    """Return a fresh peak-window shrinkage-LDA decoder for ``context``'s data."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from decoders._peak import PeakWindowDecoder

    return PeakWindowDecoder(
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        **context.time_params(),
        random_state=context.random_state,
    )


DECODER = DecoderSpec(
    name="lda-peak",
    family="linear",
    description="Shrinkage LDA at the localizer peak (inner CV), scanned over 0-5 s of imagery.",
    factory=make,
    reference="Dijkstra et al. 2018, eLife; Grootswagers et al. 2017, J Cogn Neurosci",
)
