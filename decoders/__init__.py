"""Decoders: one public module per decoder, each declaring ``DECODER``.

Building blocks live in the public :mod:`decoders.toolkit` subpackage, which
the registry does not scan. See :mod:`benchmark.contract` for what a decoder
file declares and what its estimator receives.

Files other than Python modules declare decoders too, through
:data:`FILE_LOADERS`: a MOABB pipeline file (``*.yml``, ``*.yaml``) in this
folder, or in a folder given to ``run --moabb-pipelines``, is one decoder.
"""

from decoders.toolkit.moabb_pipelines import pipeline_spec

#: File suffix -> reader of such a file into a ``DecoderSpec`` (the registry's only source of non-Python
#: decoders; it reads this mapping from the package it scans).
FILE_LOADERS = {".yml": pipeline_spec, ".yaml": pipeline_spec}
