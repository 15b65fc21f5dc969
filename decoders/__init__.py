"""Decoders: one public module per decoder, each declaring ``DECODER``.

Modules whose name starts with ``_`` hold shared building blocks and are not
scanned. See :mod:`benchmark.contract` for what a decoder file declares and
what its estimator receives.
"""
