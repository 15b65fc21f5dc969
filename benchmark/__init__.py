"""imagine-bench: compare MEG decoders on the IMAGINE decoding challenge.

The harness side: decoder registry (:mod:`benchmark.registry`), the contract a
decoder follows (:mod:`benchmark.contract`), the runner, the scoring protocol,
the reports and the command line. Data flows one way: ``datasets`` adapter ->
runner -> scoring -> report.
"""

__version__ = "0.1.0"
