"""Exception types of the harness.

Every error the harness raises on purpose derives from :class:`BenchmarkError`
and from the built-in exception that callers already catch for that kind of
problem (the pattern of :class:`sklearn.exceptions.NotFittedError`). The one
exception is :class:`~datasets.errors.DatasetError`: the dataset layer imports
nothing of the harness, so it derives from :class:`ValueError` alone and is
re-exported here; :data:`EXPECTED` names both roots for callers that report
bad input.
"""

from __future__ import annotations

from datasets.errors import DatasetError  # the dataset layer's error (a ValueError), re-exported

__all__ = [
    "BenchmarkError",
    "DatasetError",
    "DecoderRegistrationError",
    "UnknownDecoderError",
    "DecoderOutputError",
    "SubmissionError",
    "ReportInputError",
    "ConfigError",
    "EnvironmentFailure",
    "OutputBusyError",
    "OutputPathError",
    "EXPECTED",
]


class BenchmarkError(Exception):
    """Base class of every error raised by imagine-bench."""


class DecoderRegistrationError(BenchmarkError, ValueError):
    """A file in ``decoders/`` does not declare a valid decoder."""


class UnknownDecoderError(BenchmarkError, KeyError):
    """A decoder name that is not registered; the message lists valid names."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class DecoderOutputError(BenchmarkError, ValueError):
    """A decoder returned probabilities of the wrong shape, or NaN/inf."""


class SubmissionError(BenchmarkError, ValueError):
    """A Kaggle submission does not match the test subjects' imagine epochs."""


class ReportInputError(BenchmarkError, ValueError):
    """A stored report file (``tasks.jsonl``, ``run.json``, a CSV) is malformed; the message names it."""


class ConfigError(BenchmarkError, ValueError):
    """A run config file (``run --config``) is unreadable or sets an unknown option; names the file."""


class EnvironmentFailure(BenchmarkError, OSError):
    """The machine, not the input, failed: a full disk, a read-only folder, no memory left.

    The message names the path and says what to free or change. The command
    line exits with code 3 on it.
    """

    def __str__(self) -> str:  # OSError would prefix "[Errno N]"
        return self.strerror or super().__str__()


class OutputBusyError(BenchmarkError, RuntimeError):
    """Another run holds the output folder's lock; the message names its PID and command."""


class OutputPathError(BenchmarkError, ValueError):
    """The output path cannot be a report folder (a file, say); the message says which and why."""


#: The errors that name their file or decoder and need no traceback: catch these.
EXPECTED: tuple[type[Exception], ...] = (BenchmarkError, DatasetError)
