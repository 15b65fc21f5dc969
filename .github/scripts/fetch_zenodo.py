"""Download a Zenodo record, verify every file's checksum, unpack archives.

Used by the nightly workflow when its dataset cache is cold:

    python .github/scripts/fetch_zenodo.py 17351690 ~/imagine-data

The record's metadata (``https://zenodo.org/api/records/<id>``) lists each
file with its ``md5:`` checksum; a file whose checksum differs is deleted and
the script exits with an error. Zip and tar archives are unpacked next to
them. The folder holding ``train/`` and ``test/`` (the dataset root to pass as
``--data``) is written to ``<dest>/DATA_ROOT``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

API = "https://zenodo.org/api/records/"


class ChecksumError(ValueError):
    """A downloaded file does not match the checksum the record lists."""


def file_checksum(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of ``path``, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, checksum: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` matches ``"<algorithm>:<hex>"``."""
    algorithm, _, expected = checksum.partition(":")
    found = file_checksum(path, algorithm)
    if found != expected:
        raise ChecksumError(f"{path.name}: {algorithm} {found} differs from the record's {expected}.")


def _download(url: str, target: Path) -> None:
    tmp = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=600) as response, tmp.open("wb") as fh:  # noqa: S310
        shutil.copyfileobj(response, fh, length=1 << 20)
    tmp.replace(target)


def _unpack(path: Path, dest: Path) -> None:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(dest)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            archive.extractall(dest, filter="data")
    else:
        return
    path.unlink()


def find_root(dest: Path) -> Path:
    """Return the shallowest folder under ``dest`` holding both ``train/`` and ``test/``."""
    candidates = [
        p for p in [dest, *dest.rglob("*")] if p.is_dir() and (p / "train").is_dir() and (p / "test").is_dir()
    ]
    if not candidates:
        raise FileNotFoundError(f"no folder with train/ and test/ under {dest}")
    return min(candidates, key=lambda p: len(p.parts))


def fetch(record: str, dest: Path, api: str = API) -> Path:
    """Download, verify and unpack every file of ``record`` into ``dest``; return the dataset root."""
    dest.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"{api}{record}", timeout=60) as response:  # noqa: S310
        meta = json.load(response)
    for entry in meta["files"]:
        target = dest / entry["key"]
        print(f"downloading {entry['key']} ({entry.get('size', '?')} bytes)", flush=True)
        _download(entry["links"]["self"], target)
        try:
            verify(target, entry["checksum"])
        except ChecksumError:
            target.unlink()
            raise
        _unpack(target, dest)
    root = find_root(dest)
    (dest / "DATA_ROOT").write_text(str(root) + "\n")
    return root


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", help="Zenodo record id, e.g. 17351690")
    parser.add_argument("dest", type=Path, help="folder to download into")
    parser.add_argument("--api", default=API, help="records API base URL")
    args = parser.parse_args(argv)
    try:
        root = fetch(args.record, args.dest, args.api)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"dataset root: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
