"""The messages between the harness and a task process (:mod:`benchmark.sandbox`).

The harness sends a task (:func:`send_task`: a header it pickled, raw
arrays); the task process answers with JSON and raw float64 arrays
(:func:`send_message`), which the harness parses without executing anything
(:func:`read_message`). While it runs, a task process may ask for more, each
request a JSON line answered in :func:`send_task`'s format (by
:func:`benchmark.task_processes.run_isolated`):

* ``{"kind": "others", "index": i}``: the ``i``-th other subject's localizer,
  for a decoder that declares ``uses={"others"}``
  (:class:`RequestedLocalizers`);
* ``{"kind": "localizer"}``: the task's own localizer epochs, held back when
  a shared fit of the decoder was expected (:mod:`benchmark.fits`) and asked
  for only when it cannot be used (:class:`DeferredArray`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection

import numpy as np


def send_message(conn: Connection, fields: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Send ``fields`` as JSON followed by each array as raw float64 bytes."""
    arrays = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in (arrays or {}).items()}
    meta = {**fields, "_arrays": {k: list(v.shape) for k, v in arrays.items()}}
    conn.send_bytes(json.dumps(meta).encode())
    for value in arrays.values():
        conn.send_bytes(memoryview(value).cast("B"))


def read_message(conn: Connection, *, max_elements: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse one :func:`send_message` message; only JSON and float64 buffers, nothing executed.

    Raises
    ------
    ValueError
        If the message is not what :func:`send_message` writes.
    """
    meta = json.loads(conn.recv_bytes().decode("utf-8"))
    if not isinstance(meta, dict) or not isinstance(meta.get("_arrays", {}), dict):
        raise ValueError("the decoder's process sent a malformed message")
    arrays = {}
    for name, shape in meta.pop("_arrays", {}).items():
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ValueError(f"the decoder's process sent a malformed shape for {name!r}")
        if int(np.prod(shape)) > max_elements:
            raise ValueError(f"the decoder's process sent {name!r} of shape {shape}, larger than expected")
        data = conn.recv_bytes(maxlength=8 * max_elements + 64)
        array = np.frombuffer(data, dtype=np.float64)
        if array.size != int(np.prod(shape)):
            raise ValueError(f"the decoder's process sent {array.size} values for {name!r} of shape {shape}")
        arrays[name] = array.reshape(shape)
    return meta, arrays


def send_task(conn: Connection, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Send a task: ``header`` (pickled with cloudpickle: it holds the decoder's spec) and raw arrays."""
    import cloudpickle

    if "spec" in header:  # a task's first message: where to import the decoder from, the warning filters
        where = {"sys_path": [p for p in sys.path if isinstance(p, str)], "cwd": os.getcwd()}
        conn.send_bytes(json.dumps(where).encode())
        header = {**header, "warning_filters": _warning_filters()}
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    shapes = {k: (tuple(v.shape), str(v.dtype)) for k, v in arrays.items()}
    conn.send_bytes(cloudpickle.dumps({**header, "_arrays": shapes}))
    for value in arrays.values():  # unframed: the header gave their sizes, the reader fills them in place
        _write_all(conn.fileno(), _bytes_of(value))


def _bytes_of(array: np.ndarray) -> memoryview:
    """Return the bytes of a C-contiguous array as a flat view (empty arrays included)."""
    return memoryview(array.reshape(-1).view(np.uint8))


def _write_all(fd: int, view: memoryview) -> None:
    """Write all of ``view`` to the blocking file descriptor ``fd``."""
    while view:
        view = view[os.write(fd, view) :]


def _read_into(fd: int, view: memoryview) -> None:
    """Fill ``view`` from the blocking file descriptor ``fd`` (no intermediate copy)."""
    while view:
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError("the connection closed in the middle of an array")
        view = view[n:]


def _warning_filters() -> list[tuple]:
    """Return the warning filters of this process as plain values (a task process applies them)."""
    import warnings

    return [
        (
            action,
            getattr(message, "pattern", "") or "",
            category,
            getattr(module, "pattern", "") or "",
            lineno,
        )
        for action, message, category, module, lineno in warnings.filters
    ]


def apply_warning_filters(filters: list[tuple]) -> None:
    """Make ``filters`` (from :func:`_warning_filters`) this process's, in the same order."""
    import warnings

    warnings.resetwarnings()
    for action, message, category, module, lineno in reversed(filters):
        warnings.filterwarnings(action, message=message, category=category, module=module, lineno=lineno)


def receive_task(conn: Connection) -> tuple[dict, dict[str, np.ndarray]]:
    """Receive what :func:`send_task` sent; arrays come back read-only."""
    import pickle

    header = pickle.loads(conn.recv_bytes())  # written by the harness, never by a decoder
    arrays = {}
    for name, (shape, dtype) in header.pop("_arrays").items():
        array = np.empty(shape, dtype=dtype)
        _read_into(conn.fileno(), _bytes_of(array))
        array.flags.writeable = False  # decoders' input is read-only
        arrays[name] = array
    return header, arrays


class RequestedLocalizers(Sequence):
    """The other subjects' localizer ``(X, y)`` pairs, each asked of the harness when read.

    Handed to decoders that declare ``uses={"others"}``: no more than one
    extra subject is held unless the decoder keeps them.
    """

    def __init__(self, conn: Connection, n: int) -> None:
        self._conn = conn
        self._n = int(n)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(self._n)[index]  # IndexError out of range, negative indices allowed
        self._conn.send_bytes(json.dumps({"kind": "others", "index": index}).encode())
        header, arrays = receive_task(self._conn)
        X = arrays["X"]
        return X, np.asarray(header["y"])


class DeferredArray:
    """An input array the task process asks the harness for the first time it is used.

    Parameters
    ----------
    conn : Connection
        The task's connection to the harness.
    kind : str
        The request's kind (``"localizer"``: the answer's array ``X``).
    """

    def __init__(self, conn: Connection, kind: str) -> None:
        self._conn = conn
        self._kind = kind
        self._array: np.ndarray | None = None

    def get(self) -> np.ndarray:
        """Return the array, asking the harness for it once."""
        if self._array is None:
            self._conn.send_bytes(json.dumps({"kind": self._kind}).encode())
            _, arrays = receive_task(self._conn)
            self._array = arrays["X"]
        return self._array
