"""The streaming side of an upload: gunzip on the fly with bounded output, split into
numbered physical lines with a bounded length, and decode CSV or NDJSON lines into the
raw items that `registry.records.validation.validate_item` checks. Nothing here holds more
than one network chunk (or one decompressed slice) of the file, and no step holds more than
MAX_BATCH_LINES lines or MAX_INFLATE_BYTES bytes before handing them on."""

from __future__ import annotations

import csv
import zlib
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

import orjson

from registry.records import parties
from registry.records.schemas import ItemError, RecordItem
from registry.uploads.limits import LimitExceeded

MAX_LINE_BYTES = 64 * 1024
# Output of one decompression step: bounds memory whatever the compression ratio.
MAX_INFLATE_BYTES = 1024 * 1024
# Lines per batch: a slice of blank lines holds a million of them, and splitting them all
# before the reader sees one would hold the event loop for a quarter of a second.
MAX_BATCH_LINES = 1000
ITEM_FIELDS = frozenset(RecordItem.model_fields)
REQUIRED_FIELDS = frozenset(name for name, f in RecordItem.model_fields.items() if f.is_required())


class Format(StrEnum):
    csv = "csv"
    ndjson = "ndjson"


MEDIA_TYPES = {
    "text/csv": Format.csv,
    "application/x-ndjson": Format.ndjson,
    "application/ndjson": Format.ndjson,
    "application/jsonl": Format.ndjson,
}
BINARY_MEDIA_TYPE = "application/octet-stream"  # the format is then named by a parameter


class BodyError(Exception):
    """The byte stream itself is unusable (bad gzip): the upload cannot go on."""


class Interrupted(Exception):
    """The body stopped before its end (the client went away)."""


class HeaderError(Exception):
    """The CSV header names columns that are unknown, missing or repeated."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


async def inflate(chunks: AsyncIterator[bytes], gzip: bool, max_bytes: int) -> AsyncIterator[bytes]:
    """The body's bytes, gunzipped when `gzip` (concatenated gzip members are one stream);
    gzip output past `max_bytes` raises LimitExceeded."""
    if not gzip:
        async for chunk in chunks:
            if chunk:
                yield chunk
        return
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    in_member = False
    inflated = 0
    try:
        async for chunk in chunks:
            data = chunk
            while data:
                in_member = True
                out = inflater.decompress(data, MAX_INFLATE_BYTES)
                if out:
                    inflated += len(out)
                    if inflated > max_bytes:
                        raise LimitExceeded(
                            f"The file is larger than {max_bytes:,} bytes once decompressed, the most a gzip "
                            "upload may grow to; split it, or send it uncompressed"
                        )
                    yield out
                if inflater.eof:
                    # Another gzip member may follow the end of this one.
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                    in_member = False
                else:
                    data = inflater.unconsumed_tail
        tail = inflater.flush()
    except zlib.error as exc:
        raise BodyError(f"the body is not a valid gzip stream ({exc})") from None
    if tail:
        yield tail
    if in_member and not inflater.eof:
        raise BodyError("the gzip stream ended before its end marker (truncated file)")


async def numbered_lines(data: AsyncIterator[bytes]) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """Batches of (line number from 1, line without its end) per incoming slice; None stands
    for a line longer than MAX_LINE_BYTES, whose bytes are dropped as they arrive."""
    number = 0
    pending = b""
    too_long = False
    async for chunk in data:
        batch: list[tuple[int, bytes | None]] = []
        start = 0
        buffer = pending + chunk if pending else chunk
        pending = b""
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            number += 1
            if too_long or end - start > MAX_LINE_BYTES:
                batch.append((number, None))
                too_long = False
            else:
                batch.append((number, buffer[start:end]))
            start = end + 1
            if len(batch) == MAX_BATCH_LINES:
                yield batch
                batch = []
        rest = buffer[start:]
        if too_long or len(rest) > MAX_LINE_BYTES:
            too_long = True
        else:
            pending = rest
        if batch:
            yield batch
    if pending or too_long:
        number += 1
        yield [(number, None if too_long else pending)]


Decoded = tuple[Any, list[ItemError] | None]


def csv_header(line: bytes) -> list[str]:
    """The column names of a CSV header line (a UTF-8 byte order mark is allowed)."""
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
        names = [name.strip() for name in next(csv.reader([text], strict=True))]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise HeaderError("The CSV header line cannot be read", [f"header: {exc}"]) from None
    problems = [f"unknown column: {name}" for name in names if name not in ITEM_FIELDS]
    problems += [f"missing column: {name}" for name in sorted(REQUIRED_FIELDS - set(names))]
    problems += sorted({f"repeated column: {name}" for name in names if names.count(name) > 1})
    if problems:
        raise HeaderError("The CSV header does not match the record fields", problems)
    return names


def csv_item(columns: list[str], line: bytes) -> Decoded:
    """One CSV line as an item: an empty cell is an absent field."""
    try:
        cells = next(csv.reader([line.decode("utf-8").rstrip("\r")], strict=True))
    except UnicodeDecodeError:
        return None, [ItemError(field="line", message="not valid UTF-8")]
    except csv.Error as exc:
        return None, [ItemError(field="line", message=f"not a valid CSV line: {exc}")]
    if len(cells) != len(columns):
        return None, [ItemError(field="line", message=f"expected {len(columns)} cells, found {len(cells)}")]
    raw: dict[str, Any] = {name: cell for name, cell in zip(columns, cells, strict=True) if cell != ""}
    for name in parties.CSV_COLUMNS:  # the two nested fields, flat in CSV (docs/uploads.md)
        if name in raw:
            raw[name] = parties.from_csv(name, raw[name])
    return raw, None


def ndjson_item(line: bytes) -> Decoded:
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError as exc:
        return None, [ItemError(field="line", message=f"not valid JSON: {exc}")]


def is_blank(line: bytes) -> bool:
    return not line.strip()
