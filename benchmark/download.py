"""Download the IMAGINE challenge data from its Zenodo record with pooch.

``python -m benchmark download [DIR]`` (and the nightly workflow's
``.github/scripts/fetch_zenodo.py``) call :func:`fetch_record`:

1. the record's metadata (``<api><record id>``, the record id read from the
   DOI ``10.5281/zenodo.<id>``) lists every file with its size, URL and
   ``md5:`` checksum;
2. each file is fetched by a :class:`pooch.Pooch` whose registry holds those
   checksums, with ``retry_if_failed`` retries; pooch writes to a temporary
   file and moves it to its final name only when the checksum matches, so a
   corrupted or broken transfer never leaves a file that looks complete;
3. the download itself is :class:`ResumableDownloader`, a downloader pooch
   accepts: it keeps the bytes received in ``<name>.part`` and asks the
   server for the rest (HTTP ``Range``) on the next attempt or the next run.
   pooch's own ``HTTPDownloader`` cannot resume: a broken 3 GB transfer
   would start again from zero;
4. zip and tar archives are unpacked into DIR with :class:`pooch.Unzip` or
   :class:`pooch.Untar`;
5. the folder holding ``train/`` and ``test/`` (possibly the Kaggle-like
   ``train/train/sub-XX``, which ``run --data`` also reads) is the dataset
   root; it is written to ``DIR/DATA_ROOT`` and, with the checksums, to
   ``DIR/download.json`` (:data:`MANIFEST`), written last: a folder without
   it is not a complete download.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.errors import BenchmarkError, EnvironmentFailure

logger = logging.getLogger(__name__)

#: The challenge's data on Zenodo.
ZENODO_DOI = "10.5281/zenodo.17351690"
#: Zenodo's records API; the record's JSON is ``<ZENODO_API><record id>``.
ZENODO_API = "https://zenodo.org/api/records/"
#: Written into the download folder once every file is verified and unpacked.
MANIFEST = "download.json"
#: Holds the dataset root's absolute path, for scripts.
DATA_ROOT_FILE = "DATA_ROOT"
_CHUNK = 1 << 16
_ZENODO_DOI_RE = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?10\.5281/zenodo\.(\d+)/?$", re.IGNORECASE)
_SUBJECT_RE = re.compile(r"^sub-\w+$")


class DownloadError(EnvironmentFailure):
    """A download failed (network, server, checksum) or its content is not the challenge layout.

    An :class:`~benchmark.errors.EnvironmentFailure` (exit code 3): the
    network or the server failed, not the command line.
    """


class DOIError(BenchmarkError, ValueError):
    """A DOI that does not name a Zenodo record (exit code 2: bad input)."""


@dataclass(frozen=True)
class RecordFile:
    """One file of a Zenodo record.

    Attributes
    ----------
    key : str
        File name in the record.
    size : int or None
        Size in bytes, when the record gives it.
    checksum : str
        ``"<algorithm>:<hex digest>"`` as the record lists it (``md5:...``).
    url : str
        Where to download it.
    """

    key: str
    size: int | None
    checksum: str
    url: str


def record_id(doi: str) -> str:
    """Return the Zenodo record id of a Zenodo DOI (``10.5281/zenodo.<id>``).

    Raises
    ------
    DOIError
        If ``doi`` is not a Zenodo DOI.
    """
    match = _ZENODO_DOI_RE.match(doi.strip())
    if match is None:
        raise DOIError(
            f"{doi!r} is not a Zenodo DOI: expected 10.5281/zenodo.<record id>, e.g. {ZENODO_DOI}."
        )
    return match.group(1)


def read_record(doi: str = ZENODO_DOI, api: str = ZENODO_API, *, timeout: float = 60.0) -> list[RecordFile]:
    """Return the files of the Zenodo record named by ``doi``, with their checksums.

    Parameters
    ----------
    doi : str
        Zenodo DOI of the record.
    api : str
        Records API base URL; the record's JSON is ``api + <record id>``.
    timeout : float
        Seconds before the request gives up.

    Raises
    ------
    DownloadError
        If the record cannot be read or lists no file with a checksum.
    """
    import requests

    url = f"{api}{record_id(doi)}"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        meta = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DownloadError(f"could not read the record of doi:{doi} at {url}: {exc}") from exc
    try:
        files = [
            RecordFile(
                key=str(entry["key"]),
                size=int(entry["size"]) if entry.get("size") is not None else None,
                checksum=str(entry["checksum"]),
                url=str(entry["links"]["self"]),
            )
            for entry in meta["files"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise DownloadError(
            f"the record at {url} does not list its files as Zenodo does "
            f"(files[].key, size, checksum, links.self): {type(exc).__name__}: {exc}"
        ) from exc
    if not files:
        raise DownloadError(f"the record at {url} lists no file.")
    for entry in files:
        if Path(entry.key).name != entry.key or entry.key in ("", ".", ".."):
            raise DownloadError(
                f"the record at {url} names a file {entry.key!r} outside the download folder."
            )
    return files


def content_key(files: list[RecordFile]) -> str:
    """Return a short key of the record's content (its file names and checksums), e.g. for a cache."""
    text = "\n".join(f"{f.key} {f.checksum}" for f in sorted(files, key=lambda f: f.key))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ResumableDownloader:
    """A pooch downloader that resumes a broken HTTP transfer from ``part``.

    pooch calls ``downloader(url, output_file, pooch)`` with a temporary
    ``output_file`` and checks the checksum afterwards. This downloader
    appends to ``part`` (kept between attempts and between runs), asks the
    server for the missing bytes with ``Range: bytes=<have>-`` (starting
    again when the server answers 200 instead of 206), and moves ``part``
    to ``output_file`` once ``size`` bytes are there.

    Parameters
    ----------
    part : Path
        File holding the bytes received so far.
    size : int or None
        Expected size; a transfer that ends short raises a
        ``requests.ConnectionError`` (which pooch retries).
    progressbar : bool
        Show a tqdm progress bar on stderr.
    timeout : float
        Socket timeout of each request.
    """

    def __init__(self, part: Path, size: int | None, *, progressbar: bool = False, timeout: float = 60.0):
        self.part = Path(part)
        self.size = size
        self.progressbar = progressbar
        self.timeout = timeout

    def __call__(self, url: str, output_file, pooch=None, check_only: bool = False):  # noqa: D102
        import requests

        if check_only:
            return True
        have = self.part.stat().st_size if self.part.is_file() else 0
        if self.size is not None and have > self.size:
            self.part.unlink()
            have = 0
        if self.size is None or have < self.size:
            self._transfer(url, have, requests)
        got = self.part.stat().st_size
        if self.size is not None and got != self.size:
            raise requests.ConnectionError(
                f"{self.part.name}: transfer ended after {got} of {self.size} bytes"
            )
        Path(output_file).unlink(missing_ok=True)
        self.part.replace(output_file)
        return None

    def _transfer(self, url: str, have: int, requests) -> None:
        from tqdm.auto import tqdm

        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            response.raise_for_status()
            resumed = have > 0 and response.status_code == 206
            if have and not resumed:
                logger.info("%s: the server does not resume; starting again", self.part.name)
            start = have if resumed else 0
            bar = tqdm(
                total=self.size, initial=start, unit="B", unit_scale=True, unit_divisor=1024, leave=True,
                desc=self.part.name.removesuffix(".part"), disable=not self.progressbar,
            )  # fmt: skip
            try:
                with self._open_part("ab" if resumed else "wb") as fh:
                    for chunk in response.iter_content(chunk_size=_CHUNK):
                        try:
                            fh.write(chunk)
                        except OSError as exc:
                            raise _disk_failure(exc, self.part) from exc
                        bar.update(len(chunk))
            finally:
                bar.close()

    def _open_part(self, mode: str):
        """Open ``part`` for writing (one place, so that tests can simulate a full disk)."""
        return self.part.open(mode)


def _disk_failure(exc: OSError, part: Path) -> EnvironmentFailure:
    """Delete ``part`` and return the error to raise for a failed write (full disk, read-only...)."""
    part.unlink(missing_ok=True)
    reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else f"cannot write ({exc})"
    failure = EnvironmentFailure(
        exc.errno, f"{part.parent}: {reason} while downloading {part.name.removesuffix('.part')}; "
        "the partial file was deleted. Free some space or choose another folder."
    )  # fmt: skip
    return failure


def check_disk_space(dest: Path, needed: int) -> None:
    """Raise :class:`~benchmark.errors.EnvironmentFailure` when ``dest`` has under ``needed`` bytes free."""
    free = shutil.disk_usage(dest).free
    if free < needed:
        raise EnvironmentFailure(
            errno.ENOSPC,
            f"{dest}: {free / 1e9:.2f} GB free, {needed / 1e9:.2f} GB needed for the download and its "
            "unpacked content; free some space or choose another folder.",
        )


def _is_archive(path: Path) -> bool:
    return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)


def _unpack(path: Path, dest: Path, pup) -> None:
    """Unpack the zip or tar archive ``path`` into ``dest`` with pooch's processors."""
    import pooch

    processor = (
        pooch.Unzip(extract_dir=str(dest)) if zipfile.is_zipfile(path) else pooch.Untar(extract_dir=str(dest))
    )
    processor(str(path), "download", pup)


def find_data_root(dest: Path) -> Path:
    """Return the shallowest folder under ``dest`` whose ``train/`` or ``test/`` holds ``sub-XX`` folders.

    The Kaggle-like ``train/train/sub-XX`` layout counts too (the adapter reads it).

    Raises
    ------
    DownloadError
        If no such folder exists.
    """

    def holds_subjects(split_dir: Path) -> bool:
        for candidate in (split_dir / split_dir.name, split_dir):
            if candidate.is_dir() and any(
                p.is_dir() and _SUBJECT_RE.match(p.name) for p in candidate.iterdir()
            ):
                return True
        return False

    folders = sorted(
        (p for p in [dest, *dest.rglob("*")] if p.is_dir()), key=lambda p: (len(p.parts), str(p))
    )
    for folder in folders:
        if any(holds_subjects(folder / split) for split in ("train", "test") if (folder / split).is_dir()):
            return folder
    found = ", ".join(sorted(p.name for p in dest.iterdir())) or "nothing"
    raise DownloadError(
        f"no folder under {dest} holds train/sub-XX or test/sub-XX (the IMAGINE challenge layout); "
        f"found {found}."
    )


def _unpacked_marker(dest: Path, entry: RecordFile) -> Path:
    return dest / f".{entry.key}.unpacked"


def fetch_record(
    dest: Path,
    doi: str = ZENODO_DOI,
    api: str = ZENODO_API,
    *,
    retries: int = 3,
    progressbar: bool = False,
    keep_archives: bool = True,
    space_factor: float = 2.0,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and unpack every file of a Zenodo record into ``dest``; return the dataset root.

    Files already downloaded with the right checksum (or already unpacked from
    an archive of that checksum) are not downloaded again.

    Parameters
    ----------
    dest : Path
        Download folder (created if needed).
    doi : str
        Zenodo DOI of the record (default: the challenge's).
    api : str
        Records API base URL (a mirror, or a local server in tests).
    retries : int
        Attempts after the first for each file (pooch's ``retry_if_failed``:
        it waits 1 s, 2 s, ... up to 10 s between them).
    progressbar : bool
        Show a progress bar per file on stderr.
    keep_archives : bool
        Keep each archive after unpacking it (a rerun then verifies it
        instead of downloading it); False deletes it (half the disk space).
    space_factor : float
        Free space needed before downloading, in multiples of the missing
        files' total size (archives and their unpacked content).
    timeout : float
        Socket timeout of each request.

    Returns
    -------
    Path
        The dataset root, as ``run --data`` takes it.

    Raises
    ------
    DownloadError
        The record cannot be read, a file cannot be downloaded after the
        retries or does not match its checksum (the message names it).
    EnvironmentFailure
        Not enough disk space, or a write failed.
    """
    import pooch
    import requests

    dest = Path(dest).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).unlink(missing_ok=True)
    files = read_record(doi, api, timeout=timeout)
    pending = [f for f in files if not _done(dest, f)]
    missing = sum((f.size or 0) - _part_size(dest, f) for f in pending)
    check_disk_space(dest, int(space_factor * max(missing, 0)))
    pup = pooch.create(
        path=dest,
        base_url="",
        registry={f.key: f.checksum for f in files},
        urls={f.key: f.url for f in files},
        retry_if_failed=retries,
        allow_updates=True,
    )
    for entry in files:
        marker = _unpacked_marker(dest, entry)
        if marker.is_file() and marker.read_text().strip() == entry.checksum:
            logger.info("%s: already downloaded and unpacked", entry.key)
            continue
        part = dest / f"{entry.key}.part"
        downloader = ResumableDownloader(part, entry.size, progressbar=progressbar, timeout=timeout)
        logger.info(
            "%s: %s bytes from %s", entry.key, entry.size if entry.size is not None else "?", entry.url
        )
        try:
            path = Path(pup.fetch(entry.key, downloader=downloader))
        except ValueError as exc:  # pooch's checksum mismatch names the file
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{entry.key}: the downloaded file does not match the record's checksum {entry.checksum} "
                f"after {retries + 1} attempt(s); nothing was kept. ({exc})"
            ) from exc
        except requests.RequestException as exc:
            kept = part.stat().st_size if part.is_file() else 0
            resume = f"; {kept} bytes kept in {part.name}, a rerun resumes there" if kept else ""
            raise DownloadError(
                f"{entry.key}: download from {entry.url} failed after {retries + 1} attempt(s): {exc}{resume}"
            ) from exc
        if _is_archive(path):
            logger.info("%s: unpacking into %s", entry.key, dest)
            try:
                _unpack(path, dest, pup)
            except OSError as exc:
                raise EnvironmentFailure(exc.errno, f"{path}: could not unpack into {dest}: {exc}") from exc
            marker.write_text(entry.checksum + "\n")
            if not keep_archives:
                path.unlink()
    root = find_data_root(dest)
    (dest / DATA_ROOT_FILE).write_text(f"{root}\n")
    manifest = {
        "doi": doi,
        "content_key": content_key(files),
        "data_root": str(root),
        "files": {f.key: f.checksum for f in files},
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def _part_size(dest: Path, entry: RecordFile) -> int:
    part = dest / f"{entry.key}.part"
    return part.stat().st_size if part.is_file() else 0


def _done(dest: Path, entry: RecordFile) -> bool:
    """Whether ``entry`` is already there: unpacked from the same archive, or the file itself (size only)."""
    marker = _unpacked_marker(dest, entry)
    if marker.is_file() and marker.read_text().strip() == entry.checksum:
        return True
    path = dest / entry.key
    return path.is_file() and (entry.size is None or path.stat().st_size == entry.size)


def is_complete(dest: Path, files: list[RecordFile] | None = None) -> bool:
    """Whether ``dest`` holds a finished download (its manifest), of ``files`` when given."""
    try:
        manifest = json.loads((Path(dest) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if files is None:
        return True
    return manifest.get("files") == {f.key: f.checksum for f in files}
