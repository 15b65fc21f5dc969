"""The decoder's side of a task: a clean process that holds epochs, never imagine labels.

Decoder code runs only here. A process is forked, per task, from a *zygote*
(:func:`serve`): a fresh interpreter started by the harness with
``python -m benchmark.sandbox`` that has imported the numerical libraries and
nothing of the run (no dataset object, no path of the data, an ``argv``
without the command line). The forked process

1. starts its own session (``setsid``: its process group is the unit the
   harness kills, with every thread and child process the decoder leaves),
   asks the kernel to kill it when the zygote dies and applies the memory cap;
2. receives over a socket what the harness sends (:func:`benchmark.wire.receive_task`): the
   decoder's spec, its context, the localizer epochs and labels, and the
   imagine epochs in a per-task random order, without trial ids;
3. runs :func:`decode` (the localizer cross-validation, the fit, the imagine
   probabilities) and sends the result back as JSON and raw float64 arrays,
   a format the harness parses without executing anything;
4. asks the harness for another subject's localizer when a decoder that
   uses ``others`` reads one, and for its own localizer when a shared fit it
   was sent without one cannot be used (:mod:`benchmark.wire`).

The harness maps the probabilities back to the file's trial order and scores
them in its own process (:mod:`benchmark.runner`). See
``docs/resume-and-caching.md`` ("Threat model") for what this does and does
not prevent.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

import numpy as np

from benchmark.wire import apply_warning_filters, receive_task, send_message

logger = logging.getLogger(__name__)

#: Environment variable naming the folder where task processes keep their bytecode (:func:`keep_bytecode`).
PYCACHE_ENV = "IMAGINE_BENCH_PYCACHE"

#: Modules the zygote imports once, so that each forked task starts warm.
PRELOAD = (
    "numpy",
    "scipy.linalg",
    "scipy.ndimage",
    "scipy.optimize",
    "scipy.signal",
    "scipy.special",
    "scipy.stats",
    "sklearn.base",
    "sklearn.covariance",
    "sklearn.decomposition",
    "sklearn.discriminant_analysis",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.multiclass",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "pyriemann.classification",
    "pyriemann.estimation",
    "pyriemann.spatialfilters",
    "pyriemann.tangentspace",
    "moabb.pipelines.utils",
    "threadpoolctl",
    "cloudpickle",
    "benchmark.contract",
    "benchmark.errors",
    "benchmark.fits",
    "benchmark.memory",
)

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> str:
    """Make this (forked) process end when ``parent_pid`` does; return the mechanism used.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes, the kernel
    kills this process when the thread that forked it exits. Elsewhere (or
    if prctl fails): a daemon thread that polls ``os.getppid()`` every
    second and exits the process once the parent is gone.
    """
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return "prctl"
        except (OSError, AttributeError):
            pass

    def watchdog() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watchdog, name="orphan-watchdog", daemon=True).start()
    return "watchdog"


# ------------------------------------------------------------------ zygote
def serve(control_fd: int, parent_pid: int) -> None:
    """Zygote main loop: fork one task process per request received on ``control_fd``.

    A request is one message with one file descriptor attached (the task's
    socket); the reply is the forked process's pid (8 bytes). End of file on
    ``control_fd`` (the harness is gone, even killed with ``SIGKILL``) ends
    the zygote; its task processes then die too (``PR_SET_PDEATHSIG``).
    """
    # no PR_SET_PDEATHSIG here: it fires when the *thread* that started the zygote ends, and
    # the harness starts it from a task thread; the harness's death closes control_fd instead
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished task processes
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # an optional library: the task imports it, or fails with its message
            pass
    keep_bytecode(os.environ.get(PYCACHE_ENV))
    threadpools = _threadpool_controller()
    control = socket.socket(fileno=control_fd)
    zygote_pid = os.getpid()
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            break
        if not fds:
            break
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                code = _task_main(fds[0], zygote_pid, threadpools)
            finally:
                os._exit(code)
        os.close(fds[0])
        control.sendall(struct.pack("q", pid))
    os._exit(0)


def keep_bytecode(folder: str | None) -> bool:
    """Let task processes keep the bytecode they compile, in ``folder``, when Python may not write it.

    With ``PYTHONDONTWRITEBYTECODE`` set, every task process would compile
    the decoders' and the harness's modules from source again (about 50 ms
    a task, measured). The zygote has imported its libraries by now; the
    modules compiled after this point (what tasks import) keep their
    bytecode in ``folder``, the harness's temporary mirror tree
    (``sys.pycache_prefix``), never beside the sources.

    Returns
    -------
    bool
        Whether bytecode is now written to ``folder``.
    """
    if not folder or not sys.dont_write_bytecode:
        return False
    sys.pycache_prefix = folder
    sys.dont_write_bytecode = False
    return True


def _threadpool_controller():
    """Return the zygote's view of the loaded thread pools (BLAS, OpenMP), or None without threadpoolctl.

    Found once here instead of in every task (about 40 ms a task, measured);
    a library a decoder loads later starts with one thread anyway (the
    zygote's ``*_NUM_THREADS`` environment).
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _task_main(fd: int, zygote_pid: int, threadpools=None) -> int:
    """Body of one forked task process; returns its exit code."""
    os.setsid()  # its own process group: the harness kills the group, leftovers included
    die_with_parent(zygote_pid)
    sys.argv = ["imagine-bench-decoder"]
    conn = Connection(fd)
    try:
        where = json.loads(conn.recv_bytes().decode("utf-8"))  # the harness's sys.path and folder
        sys.path[:] = where["sys_path"]
        os.chdir(where["cwd"])
        try:
            header, arrays = receive_task(conn)
            # the harness's warning filters (a test suite's "error", say) hold for its decoders too
            apply_warning_filters(header.pop("warning_filters", []))
        except Exception as exc:  # the decoder's module cannot be imported here, say
            send_message(conn, {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                                "traceback": traceback.format_exc(limit=-8)[-4000:]})  # fmt: skip
            return 1
        result, out_arrays = run_decoder(header, arrays, conn, threadpools=threadpools)
        send_message(conn, result, out_arrays)
    except (EOFError, OSError):  # the harness went away or killed the task
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0  # the caller ends the process with os._exit: a decoder's non-daemon threads cannot hold it


# ------------------------------------------------------------ decoding
def run_decoder(
    header: dict, arrays: dict[str, np.ndarray], conn: Connection, *, threadpools=None
) -> tuple[dict, dict]:
    """Run :func:`decode` under the memory cap and one BLAS thread; catch whatever the decoder raises.

    Parameters
    ----------
    header, arrays : dict
        What the harness sent (:func:`benchmark.wire.receive_task`).
    conn : Connection
        The task's connection (for the decoder's requests).
    threadpools : threadpoolctl.ThreadpoolController or None
        The zygote's thread pools, limited to one thread here; None: found now.

    Returns
    -------
    fields : dict
        ``status`` (``ok``, ``invalid``, ``oom`` or ``error``), the error's
        message, line and traceback, the timings, the localizer accuracy and
        the peak memory.
    arrays : dict
        ``proba`` (imagine probabilities in the order received) and
        ``course`` (the imagine time course, when asked for and available).
    """
    from threadpoolctl import threadpool_limits

    from benchmark.errors import DecoderOutputError
    from benchmark.memory import PeakMemory
    from benchmark.wire import DeferredArray, RequestedLocalizers

    max_memory_mb = header.get("max_memory_mb")
    if max_memory_mb:
        # RLIMIT_DATA counts the heap and private writable mappings (numpy's arrays), not
        # the shared libraries that RLIMIT_AS also counts
        limit = int(max_memory_mb * 2**20)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    fields: dict = {"status": "ok", "error": ""}
    out_arrays: dict = {}
    memory = PeakMemory()
    others = RequestedLocalizers(conn, header.get("n_others", 0))
    if header.get("localizer_deferred"):  # a shared fit is expected: the localizer is asked for if not
        arrays = {**arrays, "X": DeferredArray(conn, "localizer")}
    try:
        # one BLAS thread per task, always: OpenBLAS's own threads made even
        # serial runs 2.5x slower on 2 cores (docs/performance.md)
        one_thread = threadpool_limits(limits=1) if threadpools is None else threadpools.limit(limits=1)
        with memory, one_thread:
            values, out_arrays = decode(header, arrays, others)
            fields.update(values)
    except Exception as exc:  # a contributor's decoder may raise anything
        fields["status"] = (
            "invalid"
            if isinstance(exc, DecoderOutputError)
            else "oom"
            if isinstance(exc, MemoryError)
            else "error"
        )
        fields["error"] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, MemoryError) and max_memory_mb:
            fields["error"] += f" (over the --max-memory cap of {max_memory_mb:g} MB per task)"
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            where = frames[-1]
            fields["error_at"] = f"{where.filename}:{where.lineno} in {where.name}"
        fields["traceback"] = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
        out_arrays = {}
    fields["peak_memory_mb"] = memory.peak_mb
    fields["memory_method"] = memory.method
    return fields, out_arrays


def ordered_proba(
    estimator, proba: np.ndarray, n_epochs: int, name: str, classes: Sequence[str]
) -> np.ndarray:
    """Check a decoder's probabilities and put the columns in ``classes`` order.

    Raises
    ------
    DecoderOutputError
        If the shape, the classes or the values are not valid probabilities.
    """
    from benchmark.errors import DecoderOutputError

    classes = list(classes)
    proba = np.asarray(proba, dtype=float)
    found = [str(c) for c in getattr(estimator, "classes_", classes)]
    if sorted(found) != sorted(classes):
        raise DecoderOutputError(f"decoder {name!r}: classes_ must be the ten item names, got {found}.")
    if proba.shape != (n_epochs, len(classes)):
        raise DecoderOutputError(
            f"decoder {name!r}: expected probabilities of shape ({n_epochs}, {len(classes)}), "
            f"got {proba.shape}."
        )
    if not np.isfinite(proba).all():
        raise DecoderOutputError(f"decoder {name!r}: probabilities contain NaN or inf.")
    if (proba < -1e-9).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4):
        raise DecoderOutputError(
            f"decoder {name!r}: probabilities must be non-negative and sum to 1 per epoch."
        )
    return proba[:, [found.index(c) for c in classes]]


def pools_time_course(estimator) -> bool:
    """Whether the estimator's imagine probabilities are its time course pooled (optional contract)."""
    return hasattr(estimator, "imagine_time_course") and hasattr(estimator, "pool_time_course")


def decode(
    header: dict, arrays: dict[str, np.ndarray], others: Sequence | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """Cross-validate on the localizer, fit, and predict the imagine epochs; no label of them here.

    Parameters
    ----------
    header : dict
        ``spec`` (the :class:`~benchmark.contract.DecoderSpec`), ``context``,
        ``folds`` (the shared localizer folds, list of (train, test) index
        arrays; empty to skip), ``classes``, ``want_course`` (compute the
        imagine time course for the report's plot), ``truth`` (for oracles),
        ``fit_file`` (a fit shared with other tasks, :mod:`benchmark.fits`),
        ``bases`` (``(spec, fit_file, folds)`` of each decoder the decoder
        builds on: loaded or fitted and stored, then handed to its final fit
        as ``fitted``).
    arrays : dict
        ``X`` (localizer epochs), ``y`` (localizer labels, as strings
        encoded in ``header["y"]``), ``X_imagine`` (imagine epochs, shuffled).
    others : sequence or None
        The other subjects' localizers, for decoders that use them.

    Returns
    -------
    fields : dict
        ``localizer_accuracy``, ``fit_time``, ``predict_time``, ``time``
        (and ``evidence_error`` if the optional time course failed,
        ``fit_reused`` / ``fit_cache_error`` for a shared fit,
        ``fit_bases_reused``: the decoders built on whose stored fit was used).
    arrays : dict
        ``proba`` and optionally ``course``.
    """
    from benchmark.contract import TaskMemo
    from benchmark.fits import shared_fit
    from benchmark.wire import DeferredArray

    spec, context = header["spec"], header["context"]
    classes = list(header["classes"])
    X, X_imagine = arrays["X"], arrays["X_imagine"]
    y = np.asarray(header["y"])
    kwargs: dict = {}
    if "imagine" in spec.uses:
        kwargs["X_imagine"] = X_imagine
    if "others" in spec.uses:
        kwargs["others"] = others if others is not None else []
    if "truth" in spec.uses:
        kwargs["truth"] = header["truth"]
    if "memo" in spec.uses:
        kwargs["memo"] = TaskMemo()

    folds = header.get("folds", ())

    def fit():
        localizer = X.get() if isinstance(X, DeferredArray) else X  # held back for a shared fit
        fitted, reused = {}, []
        for base, path, base_folds in header.get("bases") or ():
            fitted[base.name], base_fields = shared_fit(
                path, base.name, lambda b=base, f=base_folds: _fit(b, context, localizer, y, classes, f, {})
            )
            if base_fields.get("fit_reused"):
                reused.append(base.name)
        estimator, fields = _fit(
            spec, context, localizer, y, classes, folds, kwargs, {"fitted": fitted} if fitted else {}
        )
        return estimator, {**fields, "fit_bases_reused": reused} if fitted else fields

    estimator, fields = shared_fit(header.get("fit_file"), spec.name, fit)
    t1 = time.perf_counter()
    course = None
    want_course = header.get("want_course", False)
    if want_course and pools_time_course(estimator):  # the course is plotted too: compute it once
        course = estimator.imagine_time_course(X_imagine)
        proba = estimator.pool_time_course(course)
    else:
        proba = estimator.predict_proba_imagine(X_imagine)
    t2 = time.perf_counter()
    proba = ordered_proba(estimator, proba, len(X_imagine), spec.name, classes)
    fields.update(predict_time=t2 - t1, time=fields["fit_time"] + t2 - t1)
    out = {"proba": proba}
    if want_course and hasattr(estimator, "imagine_time_course"):  # optional: evidence curve for the report
        try:
            if course is None:
                course = estimator.imagine_time_course(X_imagine)
            course = _course_in_order(course, estimator, classes, len(X_imagine))
            out["course"] = course
        except Exception as exc:  # optional output of a contributor's decoder
            fields["evidence_error"] = f"{type(exc).__name__}: {exc}"
    return fields, out


def _fit(
    spec,
    context,
    X: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    folds,
    kwargs: dict,
    final: dict | None = None,
):
    """Cross-validate on the shared localizer folds, then fit on the whole localizer.

    ``kwargs`` go to every fit, ``final`` (the decoders built on, fitted on the
    whole localizer) only to the last: a fold never sees them.

    Returns
    -------
    estimator : object
        The fitted estimator.
    fields : dict
        ``localizer_accuracy`` (NaN without folds) and ``fit_time`` (s, the
        final fit).
    """
    fold_scores = []
    y_idx = np.searchsorted(np.asarray(classes), y)
    for train, test in folds:
        estimator = spec.factory(context)
        estimator.fit(X[train], y[train], **kwargs)
        proba = ordered_proba(estimator, estimator.predict_proba(X[test]), len(test), spec.name, classes)
        fold_scores.append(float(np.mean(proba.argmax(axis=1) == y_idx[test])))
    estimator = spec.factory(context)
    t0 = time.perf_counter()
    estimator.fit(X, y, **kwargs, **(final or {}))
    fit_time = time.perf_counter() - t0
    return estimator, {"localizer_accuracy": float(np.mean(fold_scores)) if fold_scores else float("nan"),
                       "fit_time": fit_time}  # fmt: skip


def _course_in_order(course, estimator, classes: list[str], n_epochs: int) -> np.ndarray:
    """Check an imagine time course and put its class axis in ``classes`` order."""
    course = np.asarray(course, dtype=float)
    found = [str(c) for c in estimator.classes_]
    if course.ndim != 3 or course.shape[0] != n_epochs or course.shape[2] != len(found):
        raise ValueError(
            f"imagine_time_course must have shape (n_epochs, n_times, n_classes) = ({n_epochs}, ., "
            f"{len(found)}), got {course.shape}"
        )
    return course[:, :, [found.index(c) for c in classes]]


def main(argv: Sequence[str] | None = None, *, serve_fn: Callable[[int, int], None] = serve) -> None:
    """``python -m benchmark.sandbox CONTROL_FD PARENT_PID``: run the zygote."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["imagine-bench-zygote"]
    serve_fn(int(args[0]), int(args[1]))


if __name__ == "__main__":
    main()
