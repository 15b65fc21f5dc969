"""The public decoder toolkit: building blocks that decoder files import.

A subpackage, so the registry (which scans only the modules of
:mod:`decoders`) never takes it for a decoder. One copy of each block:

========================  ==================================================================
module                    what it holds
========================  ==================================================================
:mod:`.scan`              ``ImagineScan``: localizer-fitted preprocessing, training window,
                          sliding scan of imagery, per-class normalisation, pooling
:mod:`.evidence`          z-scoring over the imagine batch, per-epoch offsets, ``POOLINGS``,
                          probabilities
:mod:`.spatial`           ``ChannelPCA``, covariances, OAS, Ledoit-Wolf of epochs, alignment,
                          Riemannian distance, ``OneVsRestCSP``
:mod:`.spectral`          ``BandPass``, ``FilterBank`` (IIR or one FFT for all bands),
                          ``ChannelBlock``, ``per_band``, ``best_band`` (band by inner CV)
:mod:`.times`             sample times, the one interval rule, moving averages, windows
:mod:`.model_selection`   the inner CV, ``seed_estimator``, ``pick_peak``, accuracy weights
:mod:`.validation`        input checks and ``StatelessTransformer``
:mod:`.lda`               shrinkage LDA, batched time-resolved LDA and its cross-validation
:mod:`.generalization`    the temporal-generalisation ensemble
:mod:`.moabb_pipelines`   MOABB pipeline YAML files read as decoders
:mod:`.bases`             registered decoders a decoder contains, fitted or handed fitted
========================  ==================================================================

The harness's balanced assignment, which decoders may use too, is
:func:`benchmark.assignment.balanced_assignment`.
"""
