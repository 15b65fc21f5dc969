"""Scores from a row's probabilities and the labels only the harness's process reads; stored rows checked."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from benchmark import scoring
from benchmark.errors import DatasetError
from datasets.adapter import ChallengeDataset
from datasets.layout import CLASS_NAMES

logger = logging.getLogger(__name__)


def score_row(row: dict, labels: np.ndarray | None) -> dict:
    """Add the scores of an ``ok`` row, computed from its probabilities and the true labels.

    Parameters
    ----------
    row : dict
        A result row with ``proba`` and ``trial_idx`` (file order); its
        ``_course`` and ``_imagine_times`` (if any) become the evidence curve.
    labels : ndarray of str or None
        The subject's imagine labels in file order (None: a test subject).

    Returns
    -------
    dict
        The row with ``imagine_accuracy``, ``balanced_accuracy``, ``top3`` and, for a
        train subject, ``y_true`` and the evidence curve.
    """
    row = dict(row)
    course, times = row.pop("_course", None), row.pop("_imagine_times", None)
    if row.get("status") != "ok":
        return row
    if labels is None:
        row["imagine_accuracy"] = row["balanced_accuracy"] = row["top3"] = float("nan")
        return row
    y_img = np.searchsorted(np.asarray(CLASS_NAMES), np.asarray(labels)[np.asarray(row["trial_idx"]) - 1])
    row.update(scoring.task_scores(np.asarray(row["proba"], dtype=float), y_img))
    row["y_true"] = y_img.tolist()
    if course is not None:
        from benchmark.stats import true_class_evidence

        try:
            curve = true_class_evidence(course, y_img, CLASS_NAMES, CLASS_NAMES)
            row["evidence_curve"] = np.round(curve, 6).tolist()
            row["evidence_times"] = np.round(np.asarray(times)[: len(curve)], 6).tolist()
        except (ValueError, IndexError) as exc:
            row["evidence_error"] = f"{type(exc).__name__}: {exc}"
    return row


class Truth:
    """What only the harness holds: each subject's imagine labels and count, read once per run."""

    def __init__(self, dataset: ChallengeDataset) -> None:
        self.dataset = dataset
        self._labels: dict[str, np.ndarray | None] = {}
        self._counts: dict[str, int] = {}

    def labels(self, subject: str) -> np.ndarray | None:
        """Imagine labels of a train subject in file order; None for a test subject."""
        if subject not in self._labels:
            split = self.dataset.ref(subject).split
            self._labels[subject] = self.dataset.imagine_labels(subject) if split == "train" else None
        return self._labels[subject]

    def n_imagine(self, subject: str) -> int:
        """Return the number of imagine epochs of ``subject``."""
        if subject not in self._counts:
            labels = self.labels(subject)
            self._counts[subject] = len(labels) if labels is not None else self.dataset.imagine_count(subject)
        return self._counts[subject]


def scored(row: dict, truth: Truth) -> dict:
    """Score a freshly computed row in this process; a subject whose labels cannot be read is an error."""
    if row.get("status") != "ok":
        row = dict(row)
        row.pop("_course", None)
        row.pop("_imagine_times", None)
        return row
    try:
        labels = truth.labels(row["subject"])
    except DatasetError as exc:
        row = {k: v for k, v in row.items() if not k.startswith("_")}
        return {**row, "status": "error", "error": f"scoring: {exc}"}
    return score_row(row, labels)


#: Numbers :func:`score_row` derives from a row's probabilities.
_DERIVED = ("imagine_accuracy", "balanced_accuracy", "top3")


def verified(stored: dict, truth: Truth, path: Path) -> dict | None:
    """Check a stored ``ok`` row against the dataset and recompute its scores; None to rerun the task.

    A row whose trial ids, labels or shape disagree with the dataset is
    rerun (with a warning naming its file); one whose derived numbers differ
    from those recomputed from its probabilities gets the recomputed ones
    (with a warning).
    """
    subject = stored["subject"]
    try:
        n = truth.n_imagine(subject)
        labels = truth.labels(subject)
    except DatasetError as exc:
        logger.warning(
            "cannot check stored result %s against the dataset (%s); the task will rerun", path, exc
        )
        return None
    problem = None
    if stored["trial_idx"] != list(range(1, n + 1)):
        problem = f"its trial_idx are not 1..{n}, the dataset's imagine epochs of {subject}"
    elif len(stored["proba"]) != n:
        problem = f"it has {len(stored['proba'])} probability rows for {n} imagine epochs"
    elif labels is not None:
        y = np.searchsorted(np.asarray(CLASS_NAMES), labels).tolist()
        if stored.get("y_true") != y:
            problem = f"its y_true disagree with {subject}'s imagine labels"
    if problem is not None:
        logger.warning("ignoring stored result %s (%s); the task will rerun", path, problem)
        return None
    curve = {k: stored[k] for k in ("evidence_curve", "evidence_times", "evidence_error") if k in stored}
    rescored = {**score_row({k: v for k, v in stored.items() if k not in _DERIVED}, labels), **curve}
    changed = [k for k in _DERIVED if not _same(rescored[k], stored[k])]
    if changed:
        logger.warning(
            "stored result %s: %s differ(s) from what its probabilities give (%s); using recomputed values",
            path, ", ".join(changed), ", ".join(f"{k} {stored[k]!r} -> {rescored[k]!r}" for k in changed),
        )  # fmt: skip
    return rescored


def _same(a: float, b: float) -> bool:
    return bool((np.isnan(a) and np.isnan(b)) or np.isclose(a, b, rtol=0.0, atol=1e-9))
