"""The default simulated dataset, generated once into a cache folder.

Without ``--data``, ``python -m benchmark run`` uses this dataset so that a
newcomer sees the harness work before downloading the real data. It lives in
``$IMAGINE_BENCH_HOME`` (default ``~/.cache/imagine-bench``) under a folder
named after the simulator version and configuration, so a change of either
generates a new one. Generation writes into a temporary folder renamed into
place when complete: an interrupted generation is never mistaken for a dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

logger = logging.getLogger(__name__)

_COMPLETE = ".complete"
#: Bumped when the cache folder's own layout changes (v2: truth in ``data-truth``).
_LAYOUT_VERSION = "2"


def cache_home() -> Path:
    """``$IMAGINE_BENCH_HOME`` or ``~/.cache/imagine-bench``."""
    return Path(os.environ.get("IMAGINE_BENCH_HOME", "~/.cache/imagine-bench")).expanduser()


def array_cache_dir(home: Path | None = None) -> Path:
    """Folder of the memory-mapped array cache: ``<home>/arrays`` (``home`` None: :func:`cache_home`)."""
    return (Path(home) if home is not None else cache_home()) / "arrays"


def _folder_and_key(config, home: Path | None) -> tuple[Path, str]:
    """Return the cache folder of the dataset ``config`` simulates, and the key that names it."""
    from datasets import simulate

    version = getattr(simulate, "SIMULATOR_VERSION", "1")
    params = asdict(config)
    # Fields added after simulator 1.0.0 enter the key only when they change
    # the data, so the default dataset (and any earlier one) keeps its folder.
    for name, neutral in getattr(simulate, "REGIME_FIELD_DEFAULTS", {}).items():
        if params.get(name) == neutral:
            params.pop(name)
    key = json.dumps({"version": version, "layout": _LAYOUT_VERSION, **params}, sort_keys=True, default=str)
    return (home or cache_home()) / f"simulated-{hashlib.sha256(key.encode()).hexdigest()[:10]}", key


def is_generated(config, home: Path | None = None) -> bool:
    """Whether :func:`default_dataset` would find ``config``'s dataset in ``home`` without simulating it."""
    return (_folder_and_key(config, home)[0] / _COMPLETE).is_file()


def default_dataset(
    config=None,
    home: Path | None = None,
    on_generate: Callable[[Path], None] | None = None,
    *,
    n_jobs: int = 1,
) -> Path:
    """Return the root of the default simulated dataset, generating it if needed.

    Parameters
    ----------
    config : SimulationConfig or None
        Simulation parameters; None uses the defaults (a small study:
        the study's 15 train + 3 test subjects at full trial counts).
    home : Path or None
        Cache folder; None uses :func:`cache_home`.
    on_generate : callable or None
        Called with the dataset's folder before it is generated (not when it
        is already there): the command line says that the first run
        simulates for a few minutes, which a quiet log would not.
    n_jobs : int
        Subjects simulated at once when it is generated (the files are the
        same for any value; :func:`datasets.simulate.simulate_dataset`).

    Returns
    -------
    Path
        Dataset root in the challenge layout; its ground truth is in the
        sibling ``data-truth`` folder.
    """
    from datasets import simulate

    config = config or simulate.SimulationConfig()
    folder, key = _folder_and_key(config, home)
    if (folder / _COMPLETE).is_file():
        return folder / "data"
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    logger.info("generating the default simulated dataset in %s (once)", folder)
    if on_generate is not None:
        on_generate(folder)
    simulate.simulate_dataset(partial / "data", config, n_jobs=n_jobs)
    (partial / _COMPLETE).write_text(key + "\n")
    if folder.exists():  # an earlier interrupted attempt
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder / "data"
