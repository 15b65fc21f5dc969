"""Report figures, drawn on :class:`matplotlib.figure.Figure` objects.

Nothing here touches pyplot or matplotlib's global state (``rcParams`` are
read, never written; ``moabb.analysis.plotting`` is not imported because
importing it restyles matplotlib globally). Every function returns a Figure,
or None when there is nothing to draw; :func:`write_figures` renders them to
PNG files and returns the bytes for embedding in ``index.html``. One module
per kind of figure: :mod:`.scores`, :mod:`.comparisons`, :mod:`.robustness`;
:mod:`.base` holds what they share and :mod:`.drawing` the rendering.
"""

from __future__ import annotations

from benchmark.figures.base import (
    CHANCE_COLOR,
    METRICS,
    PALETTE,
    Plot,
    TimeCourse,
    colors,
    decoder_colors,
    text_color,
)
from benchmark.figures.comparisons import effect_sizes, paired_views, pairwise_matrix
from benchmark.figures.drawing import draw_pngs, render_png, write_figures
from benchmark.figures.robustness import robustness_heatmap
from benchmark.figures.scores import confusion_matrices, history, runtime_bars, subject_scores, time_courses

__all__ = [
    "CHANCE_COLOR",
    "METRICS",
    "PALETTE",
    "Plot",
    "TimeCourse",
    "colors",
    "confusion_matrices",
    "decoder_colors",
    "draw_pngs",
    "effect_sizes",
    "history",
    "paired_views",
    "pairwise_matrix",
    "render_png",
    "robustness_heatmap",
    "runtime_bars",
    "subject_scores",
    "text_color",
    "time_courses",
    "write_figures",
]
