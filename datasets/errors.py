"""The one exception type of the dataset layer.

:mod:`datasets` imports nothing of the rest of the project, so its error
lives here; :mod:`benchmark.errors` re-exports it beside the harness's own
types. Like those, it also derives from the built-in exception callers
already catch for bad input (:class:`ValueError`).
"""

from __future__ import annotations

__all__ = ["DatasetError"]


class DatasetError(ValueError):
    """A dataset file is missing, unreadable or disagrees with the layout.

    The message names the file, says what was expected and what was found.
    """
