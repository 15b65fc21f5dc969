"""A float32, memory-mapped cache of validated subject data.

``mne.read_epochs`` parses the FIF structure and converts every sample on
each read. After the first validated read, the adapter can store each
block's array as a ``.npy`` file and later map it read-only, which costs
almost nothing and shares pages between worker processes.

An entry is keyed by the subject's files through :func:`file_signature`:
their names, sizes, modification times (ns) and a hash of their head, tail
and strided blocks spread over the whole file. Replacing or editing a file
changes the key; stale entries are never served (they are simply unused and
can be deleted with the folder). Each entry also stores the header facts of
its files (sampling rate, time axes, channels), which the adapter compares
with the other subjects' on every load, exactly as for a FIF read, and a
CRC-32 of every array, checked on every load (:func:`checksum`): an edit of
a cached ``.npy`` in place, even one that keeps its size, makes the entry
unused (and rewritten from the FIF files), at the cost of reading the
arrays once per load (about 0.06 s for a full-size subject's 100 MB).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

_HEAD = 65536
_BLOCK = 4096
_N_BLOCKS = 64
#: 2: meta holds the imagine event names; 3: key from :func:`file_signature`
#: (strided blocks), header facts checked on every load; 4: a CRC-32 of every
#: array, checked on every load.
CACHE_VERSION = "4"


def content_signature(path: Path) -> str:
    """Signature of a file's content only (no name, no modification time): size and sampled bytes.

    The same sampling as :func:`file_signature` (about 400 KiB read per
    file): two copies of one file share it wherever they live.
    """
    return _sampled_digest(path, f"{path.stat().st_size}")


def file_signature(path: Path) -> str:
    """Cheap content signature of one file: size, mtime and sampled bytes.

    Hashes the size, the modification time in nanoseconds, the first and last
    64 KiB and ``64`` blocks of 4 KiB spread evenly over the rest: about
    400 KiB read per file, whatever its size. Any rewrite through the
    filesystem changes the modification time; a same-size edit that also
    restores the modification time is still seen when it touches a sampled
    block (any edit of more than 1/64 of the file does).

    Parameters
    ----------
    path : Path
        A regular file.

    Returns
    -------
    str
        Hex digest (32 characters).
    """
    stat = path.stat()
    return _sampled_digest(path, f"{stat.st_size}:{stat.st_mtime_ns}")


def _sampled_digest(path: Path, prefix: str) -> str:
    size = path.stat().st_size
    digest = hashlib.blake2b(prefix.encode(), digest_size=16)
    with path.open("rb") as fh:
        digest.update(fh.read(_HEAD))
        if size > 2 * _HEAD:
            span = size - 2 * _HEAD
            for offset in np.linspace(_HEAD, _HEAD + span - _BLOCK, _N_BLOCKS).astype(np.int64):
                fh.seek(int(offset))
                digest.update(fh.read(_BLOCK))
        if size > _HEAD:
            fh.seek(max(size - _HEAD, _HEAD))
            digest.update(fh.read(_HEAD))
    return digest.hexdigest()


def files_key(paths: list[Path]) -> str:
    """Content key of a set of files (names and :func:`file_signature` of each)."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    for path in sorted(paths):
        digest.update(f"{path.name}:{file_signature(path)}".encode())
    return digest.hexdigest()[:32]


def checksum(array: np.ndarray) -> int:
    """CRC-32 of an array's bytes (C order): about 0.06 s per 100 MB here, the pages read once."""
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def _status(paths: list[Path]) -> tuple:
    """Size, modification time (ns) and inode of each file: changes when a file is rewritten."""
    out = []
    for path in paths:
        st = path.stat()
        out.append((path.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


class ArrayCache:
    """Folder of cached subject entries: ``<key>/{arrays}.npy`` + ``meta.json``.

    Parameters
    ----------
    folder : Path
        Cache root (created on first write).

    Notes
    -----
    Every array's CRC-32 is checked when an entry is first loaded. A run
    loads each subject once per task; the entry is checked again only when
    one of its files' status (size, modification time, inode) differs from
    when this object last checked it, so a file rewritten or replaced since
    is caught, and an unchanged entry is not read whole again for every task.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._checked: dict[str, tuple] = {}  # key -> the files' status when their CRCs matched

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """Memory-map the arrays of ``key`` read-only; None when absent or damaged."""
        entry = self.folder / key
        meta_file = entry / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            meta = json.loads(meta_file.read_bytes().decode("utf-8"))
            files = {name: entry / f"{name}.npy" for name in meta["arrays"]}
            status = _status([meta_file, *files.values()])
            arrays = {name: np.load(path, mmap_mode="r") for name, path in files.items()}
            if self._checked.get(key) != status:
                checksums = meta["crc32"]
                for name, array in arrays.items():
                    if checksum(array) != checksums[name]:
                        raise ValueError(f"{name}.npy changed since it was written (CRC-32 mismatch)")
                self._checked[key] = status
        except (OSError, ValueError, KeyError, TypeError) as exc:  # TypeError: meta not an object
            self._checked.pop(key, None)
            logger.warning("ignoring damaged cache entry %s (%s); it will be rewritten", entry, exc)
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
            checksums = {}
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                np.save(tmp / f"{name}.npy", array)
                checksums[name] = checksum(array)
            (tmp / "meta.json").write_text(json.dumps({**meta, "arrays": sorted(arrays), "crc32": checksums}))
            target = self.folder / key
            if target.exists():  # a damaged entry: moved aside, since a rename cannot replace a folder
                stale = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{key}-stale-"))
                os.replace(target, stale / key)
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
        except OSError as exc:  # another process won the race, or the disk is full
            logger.debug("cache entry %s not stored (%s)", key, exc)
            shutil.rmtree(tmp, ignore_errors=True)
