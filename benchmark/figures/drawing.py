"""Figures to PNG bytes and files, drawn in parallel processes when asked."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from benchmark import stats
from benchmark.figures.base import Plot, TimeCourse, decoder_colors
from benchmark.figures.comparisons import effect_sizes, paired_views, pairwise_matrix
from benchmark.figures.scores import confusion_matrices, history, runtime_bars, subject_scores, time_courses

logger = logging.getLogger(__name__)


def render_png(fig: Figure, dpi: int = 90) -> bytes:
    """PNG bytes of ``fig`` (no timestamp in the file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def write_figures(
    results: pd.DataFrame,
    board: pd.DataFrame,
    compared: stats.Comparisons,
    courses: Mapping[str, TimeCourse],
    confusions: Mapping[str, np.ndarray],
    folder: Path,
    *,
    classes: tuple[str, ...],
    seed: int = 0,
    history_frame: pd.DataFrame | None = None,
    n_jobs: int = 1,
) -> list[Plot]:
    """Draw every report figure, write ``folder/<name>.png`` and return them.

    ``n_jobs`` processes draw them (:func:`draw_pngs`); the files are the
    same for any value.
    """
    folder.mkdir(parents=True, exist_ok=True)
    order = board["decoder"].tolist() if not board.empty else []
    unranked = frozenset(board.loc[~board["ranked"].astype(bool), "decoder"]) if len(board) else frozenset()
    ranked_conf = {k: v for k, v in confusions.items() if k not in unranked}
    unranked_conf = {k: v for k, v in confusions.items() if k in unranked}
    ranked = [n for n in order if n not in unranked]
    known = {*order, *courses, *(history_frame["decoder"] if history_frame is not None else [])}
    colors = decoder_colors(known)  # one colour per decoder in every figure
    chance_note = "dashed red line: chance"
    specs = [
        ("subject_scores", "Per-subject scores", "Each dot is one train subject; black bar: mean over "
         "subjects; vertical line: its 95 % bootstrap interval; dashed red line: the metric's chance level "
         "(10 % top-1 and balanced, 30 % top-3). Decoders that are not ranked (the oracle) are drawn on "
         "their own scale on the right.",
         lambda: subject_scores(results, order, seed, unranked, colors)),
        ("paired", "Per-subject paired scores", "The best ranked decoder against each other ranked one, "
         "subject by subject (MOABB's paired plot): above the grey diagonal the best one scores higher; "
         "dashed red lines: chance (10 %).",
         lambda: paired_views(results, ranked, colors)),
        ("effect_sizes", "Effect sizes", "Standardised mean differences d (mean over train subjects divided "
         "by their SD) with approximate 95 % intervals, in the manner of MOABB's meta-analysis plot. Left: "
         "each ranked decoder against chance; right: the best decoder against each other one. Filled: "
         "significant at p <= 0.05 (exact sign-flip against chance; against the best, one-sided and "
         "Holm-corrected); dashed red line: no effect.",
         lambda: effect_sizes(results, ranked, compared, board)),
        ("time_courses", "Imagine time courses", "Mean over train subjects (band: SEM) of the true item's "
         "evidence minus the other items' mean, for decoders with imagine_time_course; 0 (dashed red) is "
         "chance; shaded: clusters above 0 in a one-sided cluster permutation test.",
         lambda: time_courses(courses, colors=colors)),
        ("confusion", "Confusion matrices", "Imagine trials of all train subjects pooled; rows sum to 100 %; "
         "one diverging colour scale for the ranked decoders, centred on chance (10 %, white): red cells "
         "are predicted more often than chance, blue ones less.",
         lambda: confusion_matrices(ranked_conf, classes)),
        ("confusion_unranked", "Confusion matrices, not ranked", "Decoders that are not ranked (the oracle "
         "reads the simulation's truth), on their own scale, centred on chance (10 %, white).",
         lambda: confusion_matrices(unranked_conf, classes)),
        ("pairwise", "Pairwise comparisons", "Mean per-subject difference in imagine accuracy (row minus "
         "column, % points) among the ranked decoders; * and bold: paired sign-flip test, two-sided, "
         "Holm-corrected over all pairs, p <= 0.05 (every p in pairwise.csv).",
         lambda: pairwise_matrix(compared)),
        ("runtime", "Runtime", "Fit and predict time per subject (mean over subjects, symlog scale) and "
         "the peak resident memory (RSS) a task added. Chance has no meaning here.",
         lambda: runtime_bars(board)),
        ("history", "History", f"Imagine accuracy of each decoder over the runs recorded in history.csv "
         f"(one point per nightly run); {chance_note}.", lambda: history(history_frame, colors=colors)),
    ]  # fmt: skip
    pngs = draw_pngs({name: draw for name, _, _, draw in specs}, n_jobs=n_jobs)
    plots = []
    for name, title, caption, _ in specs:
        path = folder / f"{name}.png"
        if pngs[name] is None:
            logger.info("figure %s skipped: nothing to draw", name)
            path.unlink(missing_ok=True)
            continue
        path.write_bytes(pngs[name])
        plots.append(Plot(name, title, caption, pngs[name]))
    return plots


def _draw_png(draw: Callable[[], Figure | None]) -> bytes | None:
    fig = draw()
    return None if fig is None else render_png(fig)


def draw_pngs(draws: Mapping[str, Callable[[], Figure | None]], n_jobs: int = 1) -> dict[str, bytes | None]:
    """PNG bytes of every figure (None: nothing to draw), drawn by up to ``n_jobs`` processes.

    Drawing and rendering are CPU-bound and the report is the serial end of
    a run, so with ``n_jobs > 1`` (``-1``: one per core) forked processes,
    at most one per core, take the figures from a queue, one at a time, and
    send back bytes; they inherit the data. Without ``fork`` (Windows,
    macOS's default), or inside a daemonic process, the figures are drawn
    here, one after another. The bytes are the same either way.

    Parameters
    ----------
    draws : mapping of str to callable
        Figure name -> function returning a Figure or None.
    n_jobs : int
        Processes to draw in.

    Returns
    -------
    dict of str to bytes or None

    Raises
    ------
    RuntimeError
        If drawing a figure raises (the figure is named and its traceback
        given) or a drawing process dies.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    from benchmark.executor import effective_n_jobs

    names = list(draws)
    n_jobs = min(effective_n_jobs(n_jobs), os.cpu_count() or 1, len(names))
    if n_jobs <= 1 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return {name: _draw_png(draws[name]) for name in names}  # (a daemonic process has no children)
    ctx = mp.get_context("fork")
    queue = ctx.SimpleQueue()
    for name in [*names, *[None] * n_jobs]:
        queue.put(name)
    readers = {}
    try:
        for _ in range(n_jobs):
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_draw_from_queue, args=(draws, queue, send), daemon=True)
            child.start()
            send.close()
            readers[receive] = child
        pngs: dict[str, bytes | None] = {}
        while readers:
            for receive in wait(list(readers)):
                try:
                    message = receive.recv()
                except EOFError:  # the process is done, or died
                    child = readers.pop(receive)
                    child.join()
                    if child.exitcode != 0:
                        raise RuntimeError(
                            f"a process drawing the report figures died (exit code {child.exitcode})"
                        ) from None
                    continue
                if "error" in message:
                    raise RuntimeError(f"drawing the figure {message['name']!r} failed:\n{message['error']}")
                pngs[message["name"]] = message["png"]
    finally:
        for child in readers.values():
            child.kill()
            child.join()
    return {name: pngs[name] for name in names}


def _draw_from_queue(draws: Mapping[str, Callable[[], Figure | None]], queue, send) -> None:
    """Body of one drawing process: draw the queue's figures until it yields None."""
    try:
        while (name := queue.get()) is not None:
            try:
                send.send({"name": name, "png": _draw_png(draws[name])})
            except Exception:  # reported to the parent, which raises
                import traceback

                send.send({"name": name, "error": traceback.format_exc()})
                return
    finally:
        send.close()
