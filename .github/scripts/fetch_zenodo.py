"""The nightly workflow's access to the challenge's Zenodo record: the same code as ``benchmark download``.

    python .github/scripts/fetch_zenodo.py key               # content key of the record, for the cache
    python .github/scripts/fetch_zenodo.py fetch ~/imagine-data

``key`` prints a short hash of the record's file names and checksums: the
cache key changes exactly when the record's content does. ``fetch`` calls
:func:`benchmark.download.fetch_record` (pooch, the record's checksums,
retries, resume, unpacking; archives deleted once unpacked, so the cache
holds the data once) and prints the dataset root; ``DEST/download.json`` is
written last, so its presence says the download is complete and may be
cached. Exit code 0 on success, 1 on any failure (the message names the file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, when not installed

from benchmark.download import (  # noqa: E402 (after the path set-up)
    ZENODO_API,
    ZENODO_DOI,
    content_key,
    fetch_record,
    read_record,
)
from benchmark.errors import BenchmarkError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doi", default=ZENODO_DOI, help="Zenodo DOI of the record")
    parser.add_argument("--api", default=ZENODO_API, help="records API base URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("key", help="print the record's content key")
    fetch = sub.add_parser("fetch", help="download, verify and unpack the record into DEST")
    fetch.add_argument("dest", type=Path)
    fetch.add_argument("--retries", type=int, default=5, help="attempts after the first, per file")
    args = parser.parse_args(argv)
    try:
        if args.command == "key":
            print(content_key(read_record(args.doi, args.api)))
            return 0
        root = fetch_record(args.dest, args.doi, args.api, retries=args.retries, keep_archives=False)
    except (BenchmarkError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
