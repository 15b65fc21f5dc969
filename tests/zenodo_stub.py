"""A local stand-in for Zenodo's records API and file downloads, for the download tests.

Serves ``/api/records/123`` and ``/files/imagine.zip`` on 127.0.0.1 only.
Imported by ``conftest.py``'s fixtures; not a test module.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import zipfile


def zenodo_zip(nested: bool = False) -> bytes:
    """A tiny challenge-layout archive (flat, or Kaggle-like ``train/train/sub-XX``), ~200 kB."""
    buffer = io.BytesIO()
    inner = ("train/train", "test/test") if nested else ("train", "test")
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"imagine/{inner[0]}/sub-02/sub-02_localizer-labels.csv", "subject,trial_idx\n")
        zf.writestr(f"imagine/{inner[1]}/sub-01/sub-01_localizer-labels.csv", "subject,trial_idx\n")
        zf.writestr("imagine/README.txt", bytes(range(256)) * 800)  # large enough to break half-way
    return buffer.getvalue()


class RecordHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``/api/records/123`` and ``/files/imagine.zip``; behaviour set on the class by the fixture."""

    payload = b""
    served = b""  # what the file URL sends (differs from payload for a corrupted file)
    break_first = 0  # number of file requests that break off half-way
    requests: list = []  # (path, first byte asked)
    size_in_record = True

    def do_GET(self):  # noqa: N802 (http.server's naming)
        cls = type(self)
        if self.path == "/api/records/123":
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            entry = {"key": "imagine.zip", "checksum": "md5:" + hashlib.md5(cls.payload).hexdigest(),
                     "links": {"self": f"{host}/files/imagine.zip"}}  # fmt: skip
            if cls.size_in_record:
                entry["size"] = len(cls.payload)
            return self._send(200, json.dumps({"id": 123, "files": [entry]}).encode())
        if self.path != "/files/imagine.zip":
            return self._send(404, b"not found")
        start = 0
        if header := self.headers.get("Range"):
            start = int(header.split("=")[1].rstrip("-"))
        cls.requests.append((self.path, start))
        body = cls.served[start:]
        n_file_requests = sum(p == "/files/imagine.zip" for p, _ in cls.requests)
        if n_file_requests <= cls.break_first:
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # then the connection drops
            self.wfile.flush()
            self.close_connection = True
            return None
        return self._send(206 if start else 200, body)

    def _send(self, code: int, body: bytes):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass
