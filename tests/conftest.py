"""Shared fixtures: a small dataset in the official layout (``tests/foreign_files.py``), a local Zenodo.

The files are made the way the organisers' script makes them (``mne.EpochsArray``
with MNE's default baseline, Vectorview-style ``MEG 0113`` names, Kaggle's
nested ``train/train`` folders), independently of ``datasets.simulate``, so the
adapter is tested on data the project did not generate. ``server`` serves a
tiny Zenodo record on 127.0.0.1 (``tests/zenodo_stub.py``) and
``no_real_network`` fails any request that leaves it.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tests.foreign_files import write_foreign_dataset
from tests.zenodo_stub import RecordHandler, zenodo_zip


@pytest.fixture(scope="session")
def foreign_root(tmp_path_factory) -> Path:
    """A read-only-by-convention small dataset (2 train + 1 test, nested layout)."""
    return write_foreign_dataset(tmp_path_factory.mktemp("foreign") / "imagine")


@pytest.fixture
def fresh_foreign_root(tmp_path) -> Path:
    """A small dataset a test may modify (1 train + 1 test, flat layout)."""
    return write_foreign_dataset(tmp_path / "imagine", n_train=1, n_test=1, nested=False)


@pytest.fixture
def server():
    """A local Zenodo stand-in; yields (handler class to configure, records API base URL)."""
    handler = type("Handler", (RecordHandler,), {"payload": zenodo_zip(), "served": b"", "requests": []})
    handler.served = handler.payload
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/api/records/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def no_real_network(monkeypatch):
    """Fail any request that leaves 127.0.0.1."""
    import requests

    real = requests.Session.request

    def local_only(self, method, url, *args, **kwargs):
        if not str(url).startswith("http://127.0.0.1:"):
            raise AssertionError(f"a test reached for the network: {url}")
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", local_only)
