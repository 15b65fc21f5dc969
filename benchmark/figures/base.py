"""What every figure shares: the data classes handed to the plots, one colour per decoder, metric names."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


METRICS = (
    ("imagine_accuracy", "imagine accuracy"),
    ("balanced_accuracy", "balanced-assignment accuracy"),
    ("top3", "top-3 accuracy"),
)


@dataclass(frozen=True)
class TimeCourse:
    """Evidence curves of one decoder over imagine time.

    Attributes
    ----------
    times : ndarray, shape (n_times,)
        Imagine time of each sample (s).
    curves : ndarray, shape (n_subjects, n_times)
        Per train subject: mean over trials of true-class evidence minus the
        mean evidence of the other classes (0 = chance).
    clusters : list of benchmark.stats.Cluster
        Clusters from :func:`benchmark.stats.cluster_test`.
    """

    times: np.ndarray
    curves: np.ndarray
    clusters: list


@dataclass(frozen=True)
class Plot:
    """One rendered figure."""

    name: str
    title: str
    caption: str
    png: bytes


#: Colour of every chance line and chance mark.
CHANCE_COLOR = "firebrick"


#: Distinct colours for decoders: Kelly's colours of maximum contrast (no white), most distinct first.
PALETTE = (
    "#0067A5", "#F38400", "#008856", "#BE0032", "#875692", "#882D17", "#E68FAC", "#848482", "#8DB600",
    "#A1CAF1", "#F3C300", "#604E97", "#F99379", "#2B3D26", "#B3446C", "#DCD300", "#654522", "#E25822",
    "#C2B280", "#222222", "#F6A600",
)  # fmt: skip


def decoder_colors(names) -> dict[str, str]:
    """One distinct colour per decoder, the same in every figure of a report.

    Names are sorted, so a decoder keeps its colour whatever the ranking;
    beyond the :data:`PALETTE`'s 21 colours, evenly spaced hues follow.
    """
    from matplotlib.colors import hsv_to_rgb, to_hex

    names = sorted(set(names))
    extra = len(names) - len(PALETTE)
    colors = list(PALETTE[: len(names)])
    if extra > 0:
        hues = (np.arange(extra) / extra + 0.03) % 1.0
        colors += [to_hex(hsv_to_rgb((h, 0.65, 0.75 if k % 2 else 0.55))) for k, h in enumerate(hues)]
    return dict(zip(names, colors, strict=True))


def colors(n: int) -> list:
    """``n`` distinct colours (the first ``n`` of :func:`decoder_colors`)."""
    return list(decoder_colors([f"{i:04d}" for i in range(n)]).values())


def text_color(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba`` (WCAG luminance)."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "black" if luminance > 0.179 else "white"
