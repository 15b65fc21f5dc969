"""Download a Zenodo record robustly, verify every file's checksum, unpack archives.

Used by the nightly workflow when its dataset cache is cold:

    python .github/scripts/fetch_zenodo.py 17351690 ~/imagine-data

The record's metadata (``https://zenodo.org/api/records/<id>``) lists each
file with its size and ``md5:`` checksum. Before downloading, the free disk
space must hold every file plus room to unpack it (twice the record's size
by default, ``--space-factor``). Each file is downloaded into ``<name>.part``
in 1 MiB blocks; a broken connection is retried (``--retries``, with a
growing pause) and resumed from the bytes already on disk with an HTTP
``Range`` request (from the start when the server ignores it). A finished
file whose checksum differs is deleted and the script exits with an error;
a file already present with the right checksum is not downloaded again. Zip
and tar archives are unpacked next to them. The folder holding ``train/``
and ``test/`` (the dataset root to pass as ``--data``) is written to
``<dest>/DATA_ROOT``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

API = "https://zenodo.org/api/records/"
BLOCK = 1 << 20


class ChecksumError(ValueError):
    """A downloaded file does not match the checksum the record lists."""


class DiskSpaceError(OSError):
    """Not enough free space for the record's files and their unpacked content."""


def file_checksum(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of ``path``, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, checksum: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` matches ``"<algorithm>:<hex>"``."""
    algorithm, _, expected = checksum.partition(":")
    found = file_checksum(path, algorithm)
    if found != expected:
        raise ChecksumError(f"{path.name}: {algorithm} {found} differs from the record's {expected}.")


def check_disk_space(dest: Path, needed: int) -> None:
    """Raise :class:`DiskSpaceError` when ``dest``'s file system has fewer than ``needed`` free bytes."""
    free = shutil.disk_usage(dest).free
    if free < needed:
        raise DiskSpaceError(
            f"{dest}: {free / 1e9:.2f} GB free, {needed / 1e9:.2f} GB needed for the download and its "
            "unpacked content; free some space or choose another folder."
        )


def _download_once(url: str, part: Path, timeout: float) -> None:
    """Fetch ``url`` into ``part``, resuming after the bytes already there when the server allows it."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        status = getattr(response, "status", None) or response.getcode()
        resumed = have > 0 and status == 206
        with part.open("ab" if resumed else "wb") as fh:
            shutil.copyfileobj(response, fh, length=BLOCK)


def download(
    url: str, target: Path, *, size: int | None = None, retries: int = 5, pause: float = 10.0,
    timeout: float = 120.0,
) -> None:  # fmt: skip
    """Download ``url`` to ``target`` with retries and resume.

    Parameters
    ----------
    url : str
        File URL (``file://`` works, for tests).
    target : Path
        Final path; the data go to ``target.part`` until complete.
    size : int, optional
        Expected size in bytes; a shorter file is resumed, a longer one restarted.
    retries : int
        Attempts after the first.
    pause : float
        Seconds before the first retry, growing linearly.
    timeout : float
        Socket timeout of each attempt.
    """
    part = target.with_name(target.name + ".part")
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            _download_once(url, part, timeout)
            got = part.stat().st_size
            if size is not None and got < size:
                raise OSError(f"{target.name}: connection ended after {got} of {size} bytes")
            if size is not None and got > size:
                part.unlink()
                raise OSError(f"{target.name}: {got} bytes, more than the record's {size}; restarting")
            part.replace(target)
            return
        except (OSError, urllib.error.URLError) as exc:  # URLError and timeouts are OSErrors too
            last = exc
            if attempt < retries:
                wait = pause * (attempt + 1)
                print(f"  attempt {attempt + 1} failed ({exc}); retrying in {wait:.0f} s", flush=True)
                time.sleep(wait)
    raise OSError(f"{target.name}: download failed after {retries + 1} attempts: {last}")


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


def fetch(
    record: str, dest: Path, api: str = API, *, retries: int = 5, pause: float = 10.0,
    space_factor: float = 2.0,
) -> Path:  # fmt: skip
    """Download, verify and unpack every file of ``record`` into ``dest``; return the dataset root."""
    dest.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"{api}{record}", timeout=60) as response:  # noqa: S310
        meta = json.load(response)
    entries = meta["files"]
    pending = [e for e in entries if not (dest / e["key"]).is_file()]
    check_disk_space(dest, int(space_factor * sum(int(e.get("size", 0)) for e in pending)))
    for entry in entries:
        target = dest / entry["key"]
        if target.is_file():
            try:
                verify(target, entry["checksum"])
                print(f"{entry['key']} already downloaded and verified", flush=True)
            except ChecksumError:
                target.unlink()
        if not target.is_file():
            print(f"downloading {entry['key']} ({entry.get('size', '?')} bytes)", flush=True)
            download(entry["links"]["self"], target, size=entry.get("size"), retries=retries, pause=pause)
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
    parser.add_argument("--retries", type=int, default=5, help="retries per file after a failed attempt")
    parser.add_argument("--pause", type=float, default=10.0, help="seconds before the first retry")
    parser.add_argument(
        "--space-factor", type=float, default=2.0, help="free space needed, in multiples of the download"
    )
    args = parser.parse_args(argv)
    try:
        root = fetch(args.record, args.dest, args.api, retries=args.retries, pause=args.pause,
                     space_factor=args.space_factor)  # fmt: skip
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"dataset root: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
