"""Power timing oracle: csp-lda's localizer classifier, pooled over each trial's true imagery interval.

Available only on simulated data and never ranked. It is ``csp-lda``
unchanged (channel PCA, the alpha/beta band chosen by inner CV, one-vs-rest
CSP log-variances, shrinkage LDA, the same window scan over imagery,
z-scored per class over the imagine batch) except that it averages the
evidence over each trial's *true* imagery windows instead of pooling over
0-5 s without labels: :mod:`decoders.oracle_timing` for the spectral family.
Read beside ``csp-lda`` and ``oracle-transfer`` on induced regimes, it splits
the gap into what not knowing *when* imagery happens costs and what the
localizer-trained power classifier loses even at the right time.
"""

from __future__ import annotations

from benchmark.contract import DecoderContext, DecoderSpec
from decoders.oracle_timing import TimingOracleDecoder


def make(context: DecoderContext) -> TimingOracleDecoder:
    """Return ``csp-lda``'s decoder wrapped in the timing oracle."""
    from decoders.csp_lda import DECODER as csp_lda

    return TimingOracleDecoder(scan=csp_lda.factory(context), scan_name=csp_lda.name)


DECODER = DecoderSpec(
    name="oracle-timing-power",
    family="oracle",
    description="Simulation only, not ranked: csp-lda with its evidence averaged over each trial's true "
    "imagery interval (what knowing when imagery happens would give a power decoder).",
    factory=make,
    uses=frozenset({"truth"}),
    ranked=False,
    reference="Diagnostic of this benchmark (see docs/robustness.md)",
    builds_on=("csp-lda",),
)
