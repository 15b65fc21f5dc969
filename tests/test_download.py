"""``python -m benchmark download`` against a Zenodo-like record served on 127.0.0.1 (never the network)."""

from __future__ import annotations

import errno
import io
import zipfile
from pathlib import Path

import pytest

from benchmark import download
from benchmark.cli import main
from benchmark.download import DOIError, DownloadError, fetch_record, is_complete, read_record, record_id
from benchmark.errors import EnvironmentFailure
from tests.zenodo_stub import zenodo_zip

DOI = "10.5281/zenodo.123"

pytestmark = pytest.mark.usefixtures("no_real_network")


def _leftovers(dest: Path) -> list[str]:
    """Files a failed download must not leave: the archive, partial or temporary files, a manifest."""
    return sorted(p.name for p in dest.iterdir() if p.is_file())


def test_record_id_reads_zenodo_dois_only():
    assert record_id("10.5281/zenodo.17351690") == "17351690"
    assert record_id("doi:10.5281/zenodo.42") == "42"
    assert record_id("https://doi.org/10.5281/zenodo.7") == "7"
    with pytest.raises(DOIError, match="not a Zenodo DOI"):
        record_id("10.1000/xyz123")
    assert main(["download", "--doi", "10.1000/xyz123"]) == 2


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "kaggle-nested"])
def test_download_verifies_unpacks_and_gives_the_data_root(server, tmp_path, nested):
    handler, api = server
    handler.payload = handler.served = zenodo_zip(nested)
    dest = tmp_path / "data"
    root = fetch_record(dest, DOI, api, retries=0)
    assert root == dest.resolve() / "imagine"
    assert (dest / "DATA_ROOT").read_text().strip() == str(root)
    assert (dest / "imagine.zip").read_bytes() == handler.payload  # kept: a rerun verifies it
    assert not list(dest.glob("*.part")) and not list(dest.glob("tmp*"))
    assert is_complete(dest, read_record(DOI, api))
    from datasets.adapter import ChallengeDataset

    dataset = ChallengeDataset(root)  # what `run --data ROOT` opens
    assert dataset.subjects_in("train") == ["sub-02"] and dataset.subjects_in("test") == ["sub-01"]
    # a second run verifies the archive and downloads nothing
    before = len(handler.requests)
    assert fetch_record(dest, DOI, api, retries=0) == root
    assert len(handler.requests) == before


def test_download_command_prints_the_run_command(server, tmp_path, capsys):
    handler, api = server
    dest = tmp_path / "data"
    code = main(["download", str(dest), "--doi", DOI, "--api", api, "--no-progress", "--remove-archives"])
    out = capsys.readouterr().out
    assert code == 0, out
    root = dest.resolve() / "imagine"
    assert f"run --all --data {root}\n" in out
    assert not (dest / "imagine.zip").exists() and (root / "train" / "sub-02").is_dir()
    # without the archive, the unpacked marker says it is done: nothing is downloaded again
    before = len(handler.requests)
    assert main(["download", str(dest), "--doi", DOI, "--api", api, "--no-progress"]) == 0
    assert len(handler.requests) == before


def test_corrupted_file_is_named_and_not_kept(server, tmp_path, capsys):
    handler, api = server
    handler.served = handler.payload[:-10] + b"0123456789"  # same size, other bytes
    dest = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"imagine\.zip: the downloaded file does not match .*md5:"):
        fetch_record(dest, DOI, api, retries=0)
    assert _leftovers(dest) == []  # no archive, no .part, no temporary file, no DATA_ROOT or manifest
    assert main(["download", str(dest), "--doi", DOI, "--api", api, "--retries", "0"]) == 3
    assert "imagine.zip" in capsys.readouterr().err
    # a corrupted file left by an earlier tool is downloaded again, not trusted
    handler.served = handler.payload
    (dest / "imagine.zip").write_bytes(b"x" * len(handler.payload))
    fetch_record(dest, DOI, api, retries=0)
    assert (dest / "imagine.zip").read_bytes() == handler.payload


def test_interrupted_transfer_is_retried_from_where_it_broke(server, tmp_path):
    handler, api = server
    handler.break_first = 1
    dest = tmp_path / "data"
    fetch_record(dest, DOI, api, retries=1)
    assert (dest / "imagine.zip").read_bytes() == handler.payload
    starts = [start for _, start in handler.requests]
    assert len(starts) == 2 and starts[0] == 0, starts
    assert 0 < starts[1] <= len(handler.payload) // 2, "the retry did not resume from the bytes received"


def test_interrupted_transfer_without_retries_resumes_on_the_next_run(server, tmp_path):
    handler, api = server
    handler.break_first = 1
    handler.size_in_record = True
    dest = tmp_path / "data"
    with pytest.raises(
        DownloadError, match=r"imagine\.zip: download .* failed after 1 attempt.*a rerun resumes"
    ):
        fetch_record(dest, DOI, api, retries=0)
    assert _leftovers(dest) == ["imagine.zip.part"]  # only the partial file, under a name that says so
    assert (dest / "imagine.zip.part").read_bytes() == handler.payload[
        : (dest / "imagine.zip.part").stat().st_size
    ]
    assert not (dest / "imagine.zip").exists() and not is_complete(dest)
    fetch_record(dest, DOI, api, retries=0)
    assert (dest / "imagine.zip").read_bytes() == handler.payload
    starts = [start for _, start in handler.requests]
    assert starts[0] == 0 and 0 < starts[1] <= len(handler.payload) // 2, starts


class _FullDisk:
    """A file object that takes a few bytes, then fails as a full disk does."""

    def __init__(self, path: Path, mode: str):
        self.fh = path.open(mode)

    def write(self, data: bytes) -> int:
        self.fh.write(data[:100])
        self.fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_full_disk_names_the_folder_and_leaves_no_partial_file(server, tmp_path, monkeypatch, capsys):
    handler, api = server
    monkeypatch.setattr(
        download.ResumableDownloader, "_open_part", lambda self, mode: _FullDisk(self.part, mode)
    )
    dest = tmp_path / "data"
    with pytest.raises(EnvironmentFailure, match="disk is full while downloading imagine.zip") as caught:
        fetch_record(dest, DOI, api, retries=2)
    assert caught.value.errno == errno.ENOSPC
    assert _leftovers(dest) == []
    assert len(handler.requests) == 1, "a full disk is not retried"
    assert main(["download", str(dest), "--doi", DOI, "--api", api, "--no-progress"]) == 3
    assert "disk is full" in capsys.readouterr().err


def test_free_space_is_checked_before_downloading(server, tmp_path, monkeypatch):
    handler, api = server
    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: type("U", (), {"free": 10})())
    with pytest.raises(EnvironmentFailure, match="GB needed"):
        fetch_record(tmp_path / "data", DOI, api)
    assert handler.requests == []


def test_unreachable_record_and_bad_layout_are_clear_errors(server, tmp_path):
    handler, api = server
    with pytest.raises(DownloadError, match="could not read the record of doi:10.5281/zenodo.999"):
        fetch_record(tmp_path / "a", "10.5281/zenodo.999", api, retries=0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("other/readme.txt", "no subjects here")
    handler.payload = handler.served = buffer.getvalue()
    with pytest.raises(DownloadError, match="holds train/sub-XX or test/sub-XX"):
        fetch_record(tmp_path / "b", DOI, api, retries=0)
    assert not (tmp_path / "b" / "download.json").exists()
