"""Fitted estimators shared by tasks whose fit reads identical inputs (the sweep's and the matrix's cells).

The cells of one regime at different transfer weights ``alpha`` hold the
same localizer data (the simulator's imagery is affine in ``alpha``; nothing
random depends on it), so a decoder whose ``fit`` reads only the localizer
(and the other subjects' localizers) would be fitted to the same numbers in
every cell. With ``RunConfig.fit_cache`` set, the harness keys each such
fit by everything it reads (:func:`fit_key`: the decoder's code, the
versions, the seed, the localizer folds and the content of every localizer
it is handed) and the task process stores the fitted estimator under that
key (:func:`save_fit`); a later task with the same key loads it
(:func:`load_fit`) instead of fitting again, and predicts its own imagine
epochs. The fit is deterministic (one BLAS thread, ``random_state`` from
the seed), so the probabilities are those of a fresh fit, bit for bit
(``tests/test_fits.py``).

Decoders whose fit reads the imagine epochs or the simulation's truth
(``uses`` holds ``"imagine"`` or ``"truth"``) are never shared: their fit
differs from cell to cell. The stored files are pickles written and read
only by task processes, never by the harness's own process; a file that
cannot be read is refitted and rewritten, and a fit that cannot be stored
is still used (the row says why in ``fit_cache_error``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

#: ``uses`` entries that make a fit depend on more than the localizers: never shared.
UNSHARED_USES = frozenset({"imagine", "truth"})

#: Pickle protocol of the stored fits.
_PROTOCOL = 5


def shares_fit(uses: Iterable[str]) -> bool:
    """Whether a decoder declaring ``uses`` fits on the localizers only (its fit can be shared)."""
    return not (set(uses) & UNSHARED_USES)


def localizer_digest(X: np.ndarray, y: Iterable, times: np.ndarray, ch_names: Iterable[str]) -> str:
    """Digest of one localizer's content: epochs, labels, time axis and channel names.

    Parameters
    ----------
    X : ndarray, shape (n_epochs, n_channels, n_times)
        Localizer epochs (hashed as their own bytes, C order, with their dtype:
        a float32 memory map is not copied to float64).
    y : iterable
        Their labels.
    times : ndarray
        The time axis (s).
    ch_names : iterable of str
        The channel names.

    Returns
    -------
    str
        Hex SHA-256.
    """
    digest = hashlib.sha256()
    X = np.ascontiguousarray(X)
    digest.update(json.dumps({"shape": list(X.shape), "dtype": X.dtype.str, "y": [str(v) for v in y],
                              "ch_names": [str(c) for c in ch_names]}).encode())  # fmt: skip
    digest.update(np.ascontiguousarray(times, dtype=np.float64).tobytes())
    digest.update(memoryview(X).cast("B"))
    return digest.hexdigest()


def fit_key(task_fields: dict, localizer: str, others: Iterable[str] = ()) -> str:
    """Key of one fit: what decides it besides the localizers, and their digests.

    Parameters
    ----------
    task_fields : dict
        JSON-ready fields of the task key that decide the fit (decoder name,
        code digest, harness version, library versions, seed, localizer
        folds), without the dataset and the subject.
    localizer : str
        :func:`localizer_digest` of the subject's localizer.
    others : iterable of str
        Digests of the other subjects' localizers, in the order handed over.

    Returns
    -------
    str
        Hex digest (24 characters), the stored file's stem.
    """
    payload = {**task_fields, "localizer": localizer, "others": list(others)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def load_fit(path: str | Path, decoder: str) -> tuple[object, dict] | None:
    """Load a stored fit of ``decoder`` (in a task process), or None if there is none usable.

    Returns
    -------
    (estimator, fields) or None
        The fitted estimator and the fields recorded with it
        (``localizer_accuracy``, ``fit_time``); None when the file is
        missing, unreadable or holds another decoder's fit.
    """
    try:
        with open(path, "rb") as handle:
            stored = pickle.load(handle)
    except Exception:  # missing, truncated or foreign: fit again and (over)write it
        return None
    if not isinstance(stored, dict) or stored.get("decoder") != decoder or "estimator" not in stored:
        return None
    fields = stored.get("fields")
    return stored["estimator"], dict(fields) if isinstance(fields, dict) else {}


def save_fit(path: str | Path, decoder: str, estimator: object, fields: dict) -> str | None:
    """Store a fitted estimator atomically (in a task process); return why not, or None.

    Parameters
    ----------
    path : str or Path
        The file (its folder is created).
    decoder : str
        The decoder's name, checked by :func:`load_fit`.
    estimator : object
        The fitted estimator.
    fields : dict
        Fields to restore with it (``localizer_accuracy``, ``fit_time``).

    Returns
    -------
    str or None
        The error message when the fit could not be stored (an estimator
        that does not pickle, a full disk), else None.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            stored = {"decoder": decoder, "estimator": estimator, "fields": fields}
            pickle.dump(stored, handle, protocol=_PROTOCOL)
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - the fit is used anyway; the row says why it was not stored
        tmp.unlink(missing_ok=True)
        return f"{type(exc).__name__}: {exc}"
    return None


def shared_fit(
    path: str | Path | None, decoder: str, fit: Callable[[], tuple[object, dict]]
) -> tuple[object, dict]:
    """Return the fit stored at ``path``, or call ``fit()`` and store its result there (in a task process).

    Parameters
    ----------
    path : str, Path or None
        The task's fit file (None: just fit).
    decoder : str
        The decoder's name.
    fit : callable
        Returns ``(estimator, fields)``, ``fields`` holding
        ``localizer_accuracy`` and ``fit_time``.

    Returns
    -------
    estimator : object
        The fitted estimator.
    fields : dict
        ``localizer_accuracy`` and ``fit_time`` (those of the fit that was
        stored, when reused), ``fit_reused`` (True) when it was loaded,
        ``fit_cache_error`` when it could not be stored.
    """
    stored = load_fit(path, decoder) if path else None
    if stored is not None:
        estimator, kept = stored
        return estimator, {
            "localizer_accuracy": kept.get("localizer_accuracy", float("nan")),
            "fit_time": kept.get("fit_time", float("nan")),
            "fit_reused": True,
        }
    estimator, fields = fit()
    if path:
        kept = {k: fields[k] for k in ("localizer_accuracy", "fit_time") if k in fields}
        problem = save_fit(path, decoder, estimator, kept)
        if problem:
            fields = {**fields, "fit_cache_error": problem}
    return estimator, fields
