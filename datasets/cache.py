"""A float32, memory-mapped cache of validated subject data.

``mne.read_epochs`` parses the FIF structure and converts every sample on
each read. After the first validated read, the adapter can store each
block's array as a ``.npy`` file and later map it read-only, which costs
almost nothing and shares pages between worker processes.

An entry is keyed by the subject's files: their names, sizes, modification
times and a hash of their first and last 64 KiB. Replacing or editing a file
changes the key; stale entries are never served (they are simply unused and
can be deleted with the folder).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

_CHUNK = 65536
CACHE_VERSION = "2"  # 2: meta holds the imagine event names


def files_key(paths: list[Path]) -> str:
    """Content key of a set of files (size, mtime, first and last 64 KiB)."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for path in sorted(paths):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(_CHUNK))
            if stat.st_size > _CHUNK:
                fh.seek(max(stat.st_size - _CHUNK, _CHUNK))
                digest.update(fh.read(_CHUNK))
    return digest.hexdigest()[:32]


class ArrayCache:
    """Folder of cached subject entries: ``<key>/{arrays}.npy`` + ``meta.json``.

    Parameters
    ----------
    folder : Path
        Cache root (created on first write).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """Memory-map the arrays of ``key`` read-only; None when absent or damaged."""
        entry = self.folder / key
        meta_file = entry / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            meta = json.loads(meta_file.read_text())
            arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring damaged cache entry %s (%s)", entry, exc)
            return None
        return arrays, meta

    def save(self, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Write an entry atomically (temporary folder renamed into place)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{key}-"))
        except OSError as exc:
            logger.warning("cannot write the data cache in %s (%s); continuing without it", self.folder, exc)
            return
        try:
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
            (tmp / "meta.json").write_text(json.dumps({**meta, "arrays": sorted(arrays)}))
            os.replace(tmp, self.folder / key)
        except OSError as exc:  # another process won the race, or the disk is full
            logger.debug("cache entry %s not stored (%s)", key, exc)
            shutil.rmtree(tmp, ignore_errors=True)
