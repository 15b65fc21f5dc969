"""Sub-decoders a decoder contains, fitted by itself or handed fitted by the harness.

A decoder that builds on registered decoders (``DecoderSpec.builds_on``: a
stack, or an oracle around a decoder) fits each of them on the whole
localizer. Where the harness shares fits (:mod:`benchmark.fits`), it may hand
those fits over as ``fit(..., fitted={name: estimator})``, each built by the
named decoder's own factory from the same context and fitted to the same
localizer. :func:`fit_or_take` uses a handed estimator only when it has the
parameters of the decoder's own unfitted one, so the result is the decoder's
own fit either way; outside the harness it simply fits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

logger = logging.getLogger(__name__)


def same_params(first: object, second: object) -> bool:
    """Whether two estimators (or parameter values) are of one class with equal parameters, recursively.

    Estimators are compared by class and ``get_params(deep=False)``, their
    nested estimators, lists, tuples and dicts element by element, arrays by
    value, objects without an ``__eq__`` of their own (a CV splitter) by
    their attributes, anything else with ``==``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> same_params(LogisticRegression(C=2.0), LogisticRegression(C=2.0))
    True
    >>> same_params(LogisticRegression(C=2.0), LogisticRegression(C=1.0))
    False
    """
    if type(first) is not type(second):
        return False
    if hasattr(first, "get_params"):
        a, b = first.get_params(deep=False), second.get_params(deep=False)
        return a.keys() == b.keys() and all(same_params(a[k], b[k]) for k in a)
    if isinstance(first, list | tuple):
        return len(first) == len(second) and all(
            same_params(x, y) for x, y in zip(first, second, strict=True)
        )
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(same_params(first[k], second[k]) for k in first)
    if isinstance(first, np.ndarray):
        return first.shape == second.shape and bool(np.array_equal(first, second))
    if type(first).__eq__ is object.__eq__ and hasattr(first, "__dict__"):
        return same_params(vars(first), vars(second))
    try:
        return bool(first == second)
    except (TypeError, ValueError):
        return first is second


def fit_or_take(
    template: object, X: np.ndarray, y: np.ndarray, fitted: Mapping[str, object] | None, name: str
) -> object:
    """Return the handed fit of ``name`` if it is ``template`` fitted, else ``clone(template).fit(X, y)``.

    Parameters
    ----------
    template : estimator
        The decoder's own unfitted sub-decoder.
    X, y : ndarray
        The localizer epochs and labels the sub-decoder is fitted to.
    fitted : mapping of str to estimator, or None
        The harness's fitted sub-decoders by registered name (``fit``'s
        ``fitted`` argument), or None.
    name : str
        The registered name of ``template``'s decoder.

    Returns
    -------
    estimator
        A fitted sub-decoder.
    """
    given = (fitted or {}).get(name)
    if given is not None:
        if same_params(given, template):
            check_is_fitted(given)
            return given
        logger.warning("the handed fit of %s has other parameters than this decoder's: fitting it here", name)
    return clone(template).fit(X, y)
