"""The export file (docs/export-format.md): JSON Lines with a checksum on every record and a trailer.

A file is a header record, the account's records in a fixed order of types, and a trailer holding
the number of records before it and the SHA-256 of their bytes. Each record carries `checksum`, the
SHA-256 of its canonical JSON without that member (sorted keys, no spaces, UTF-8: the same bytes as
RFC 8785 for the strings, integers, booleans and nulls the format holds). A damaged record, a
record out of place, a missing or wrong trailer, or anything after it makes the reader refuse the
file. The checksums detect damage and truncation; they do not prove who wrote the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import IO, Any

from .domain.errors import ApiError, invalid

FORMAT = "flexplugins-export"
VERSION = 1
# Raw bytes of a bundle per bundle_chunk record (base64 makes a line about 1.4 MB).
CHUNK_BYTES = 1024 * 1024
# The longest line a reader accepts: a chunk's base64 with room for its members.
MAX_LINE = 2 * CHUNK_BYTES

HEADER = "header"
PLUGIN = "plugin"
PLUGIN_VERSION = "plugin_version"
BUNDLE = "bundle"
BUNDLE_CHUNK = "bundle_chunk"
CONFIGURATION = "configuration"
RELEASE = "release"
AUDIT_EVENT = "audit_event"
TRAILER = "trailer"

# Types in the order they appear; plugin and plugin_version records interleave (a plugin, then its
# versions), as do bundle and bundle_chunk records (a bundle, then its chunks).
_RANK = {
    HEADER: 0,
    PLUGIN: 1,
    PLUGIN_VERSION: 1,
    BUNDLE: 2,
    BUNDLE_CHUNK: 2,
    CONFIGURATION: 3,
    RELEASE: 4,
    AUDIT_EVENT: 5,
    TRAILER: 6,
}


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def checksum(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def damaged(message: str) -> ApiError:
    return invalid(f"The export file is damaged or incomplete: {message}; nothing was imported")


class Writer:
    """Writes records one line each, keeping the running digest, and the trailer on close()."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.counts: dict[str, int] = {}
        self.records = 0

    def write(self, record: dict[str, Any]) -> None:
        if "checksum" in record or record.get("type") not in _RANK or record["type"] == TRAILER:
            raise ValueError(f"not a record this writer writes: {record.get('type')!r}")
        line = canonical({**record, "checksum": checksum(record)}) + b"\n"
        self._stream.write(line)
        self._digest.update(line)
        self.records += 1
        self.counts[record["type"]] = self.counts.get(record["type"], 0) + 1

    def close(self) -> None:
        trailer: dict[str, Any] = {
            "type": TRAILER,
            "records": self.records,
            "digest": self._digest.hexdigest(),
            "counts": dict(sorted(self.counts.items())),
        }
        self._stream.write(canonical({**trailer, "checksum": checksum(trailer)}) + b"\n")
        self._stream.flush()


def _parse(line: bytes, number: int) -> dict[str, Any]:
    if not line.endswith(b"\n"):
        raise damaged(f"line {number} is cut short")
    try:
        record = json.loads(line)
    except ValueError:
        raise damaged(f"line {number} is not JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("checksum"), str):
        raise damaged(f"line {number} is not a record with a checksum")
    stated = record.pop("checksum")
    if checksum(record) != stated:
        raise damaged(f"the checksum of line {number} does not match its content")
    if record.get("type") not in _RANK:
        raise damaged(f"line {number} has an unknown record type {record.get('type')!r}")
    return record


def read_records(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Every record but the trailer, each verified; the trailer is verified after the last one.

    A consumer must read to the end before trusting anything it was given: the count and the
    digest of the whole are known only then.
    """
    digest = hashlib.sha256()
    number = 0
    rank = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            raise damaged("it ends before its trailer (truncated)")
        number += 1
        if len(line) > MAX_LINE:
            raise damaged(f"line {number} is longer than {MAX_LINE} bytes")
        record = _parse(line, number)
        kind = record["type"]
        if number == 1:
            _check_header(record)
        elif kind == HEADER:
            raise damaged(f"line {number} is a second header")
        if _RANK[kind] < rank:
            raise damaged(f"line {number} ({kind}) is out of order")
        rank = _RANK[kind]
        if kind == TRAILER:
            if record.get("records") != number - 1 or record.get("digest") != digest.hexdigest():
                raise damaged("its trailer does not match the records before it (lines lost or changed)")
            if stream.read(1):
                raise damaged("there is data after its trailer")
            return
        digest.update(line)
        yield record


def _check_header(record: dict[str, Any]) -> None:
    if record.get("type") != HEADER or record.get("format") != FORMAT:
        raise invalid(f"This is not a {FORMAT} file (its first line is not the header); nothing was imported")
    if record.get("version") != VERSION:
        raise invalid(
            f"The export file is of format version {record.get('version')!r}; "
            f"this flexplugins reads version {VERSION}; nothing was imported"
        )
