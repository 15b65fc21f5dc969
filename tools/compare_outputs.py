"""Record every decoder's outputs on two subjects, or compare two such records.

A refactoring tool: before a change, ``save`` fits every registered decoder
on two train subjects of the simulated default dataset (the one ``python -m
benchmark run`` uses) and stores its imagine probabilities
(``predict_proba_imagine``) and localizer probabilities (``predict_proba`` on
the training epochs) in an ``.npz``; after the change, ``save`` again and
``compare`` prints the largest absolute difference per decoder and output.

Usage::

    python tools/compare_outputs.py save before.npz
    python tools/compare_outputs.py save after.npz [--decoders lda-peak mdm]
    python tools/compare_outputs.py compare before.npz after.npz [--tol 1e-9]

``compare`` exits 1 when a decoder present in both records differs by more
than ``--tol``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("compare_outputs")


def save(out: Path, decoders: list[str] | None, n_subjects: int) -> None:
    """Fit each decoder on the first ``n_subjects`` train subjects and store its outputs."""
    from benchmark.registry import discover
    from benchmark.tasks import fit_params, make_context
    from datasets.adapter import ChallengeDataset
    from datasets.default import default_dataset

    dataset = ChallengeDataset(default_dataset())
    subjects = dataset.subjects_in("train")[:n_subjects]
    registry = discover()
    arrays: dict[str, np.ndarray] = {}
    for spec in registry.select(decoders):
        for subject in subjects:
            data = dataset.load(subject)
            start = time.perf_counter()
            estimator = spec.factory(make_context(data, 0))
            estimator.fit(data.localizer.X, data.localizer_labels, **fit_params(spec, data, dataset))
            key = f"{spec.name}/{subject}"
            arrays[f"{key}/imagine"] = np.asarray(estimator.predict_proba_imagine(data.imagine.X))
            arrays[f"{key}/localizer"] = np.asarray(estimator.predict_proba(data.localizer.X))
            logger.info("%-26s %s %.1f s", spec.name, subject, time.perf_counter() - start)
    np.savez_compressed(out, **arrays)
    logger.info("wrote %d arrays to %s", len(arrays), out)


def compare(before: Path, after: Path, tol: float) -> int:
    """Print max |diff| per decoder and output; return 1 if any exceeds ``tol``."""
    a, b = np.load(before), np.load(after)
    worst: dict[tuple[str, str], float] = {}
    for key in sorted(set(a.files) | set(b.files)):
        name, _, what = key.split("/")
        if key not in a.files or key not in b.files:
            worst.setdefault((name, what), float("nan"))
            continue
        diff = float(np.max(np.abs(a[key] - b[key]))) if a[key].shape == b[key].shape else float("inf")
        worst[(name, what)] = max(worst.get((name, what), 0.0), diff)
    failed = False
    print(f"{'decoder':26s} {'output':10s} max |diff|")
    for (name, what), diff in sorted(worst.items()):
        note = "only in one record" if np.isnan(diff) else ("CHANGED" if diff > tol else "same")
        failed |= bool(diff > tol)
        print(f"{name:26s} {what:10s} {diff:10.3g}  {note}")
    return int(failed)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_save = sub.add_parser("save", help="record outputs")
    p_save.add_argument("out", type=Path)
    p_save.add_argument("--decoders", nargs="+")
    p_save.add_argument("--subjects", type=int, default=2)
    p_cmp = sub.add_parser("compare", help="compare two records")
    p_cmp.add_argument("before", type=Path)
    p_cmp.add_argument("after", type=Path)
    p_cmp.add_argument("--tol", type=float, default=1e-9)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "save":
        save(args.out, args.decoders, args.subjects)
        return 0
    return compare(args.before, args.after, args.tol)


if __name__ == "__main__":
    sys.exit(main())
