"""What a run's information (``run.json``) says: simulated or real data, portable paths, the seed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from benchmark.tables import DATASET_NAMES


def is_simulated(run_info: dict, rows: Sequence[dict] = ()) -> bool:
    """Whether a run used simulated data.

    ``run_info["simulated"]`` when the run recorded it; for older runs, True
    when the dataset root has a simulation's ground truth beside it or a
    decoder of the ``oracle`` family (which needs that truth) ran.
    """
    if "simulated" in run_info:
        return bool(run_info["simulated"])
    from datasets.truth import find_truth_dir

    root = run_info.get("dataset_root")
    if root and find_truth_dir(Path(os.path.expanduser(str(root)))) is not None:
        return True
    return any(r.get("family") == "oracle" and r.get("status") == "ok" for r in rows)


def dataset_label(run_info: dict, rows: Sequence[dict] = ()) -> str:
    """``imagine-simulated`` or ``imagine``: the ``dataset`` column of results.csv."""
    return DATASET_NAMES[is_simulated(run_info, rows)]


def portable_paths(value, home: Path | None = None, cache: Path | None = None):
    """Replace this machine's cache and home folders in every string of ``value``.

    Strings starting with the cache folder (``$IMAGINE_BENCH_HOME``) become
    ``$IMAGINE_BENCH_HOME/...``, those starting with the home directory
    ``~/...``, so that a published ``run.json`` names no user's folders.
    :func:`benchmark.config.expand_path` reverses it.

    Parameters
    ----------
    value : object
        A JSON-like structure (dicts, lists, strings, numbers).
    home, cache : Path, optional
        Defaults: the user's home and :func:`datasets.default.cache_home`.

    Returns
    -------
    object
        A copy of ``value`` with the paths replaced.
    """
    from datasets.default import cache_home

    prefixes = [
        (str((cache or cache_home()).expanduser().resolve()), "$IMAGINE_BENCH_HOME"),
        (str((cache or cache_home()).expanduser()), "$IMAGINE_BENCH_HOME"),
        (str((home or Path.home()).resolve()), "~"),
        (str(home or Path.home()), "~"),
    ]

    def fix(item):
        if isinstance(item, dict):
            return {k: fix(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [fix(v) for v in item]
        if isinstance(item, str):
            for prefix, short in prefixes:
                if prefix not in ("", "/") and (item == prefix or item.startswith(prefix + os.sep)):
                    return short + item[len(prefix) :]
        return item

    return fix(value)


def run_seed(run_info: dict) -> int:
    """Return the run's seed (``config.seed``; 0 when the run did not record one)."""
    return int(run_info.get("config", {}).get("seed", 0) or 0)
