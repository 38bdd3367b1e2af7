"""CSV answers for list routes that offer `Accept: text/csv`: one helper to tell whether the
client asked for it, and one to stream rows as RFC 4180 text in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

CSV = "text/csv"
ROWS_PER_CHUNK = 500


def wants_csv(accept: str | None) -> bool:
    """The client asked for CSV (it is asked for on purpose, never by a browser's default)."""
    return CSV in (accept or "").lower()


def _cell(value: Any) -> Any:
    """None as an empty cell, booleans as JSON writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _chunks(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for n, row in enumerate(rows, 1):
        writer.writerow({k: _cell(v) for k, v in row.items()})
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> StreamingResponse:
    """`rows` (dicts keyed by `columns`; None is an empty cell) streamed as CSV with a header row."""
    return StreamingResponse(
        _chunks(columns, rows),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_content(description: str, columns: Sequence[str], example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI `200` entry of a route that also answers CSV, with `example` (a row keyed
    by `columns`) written out as the answer would be: the header row, then that row."""
    text = "".join(_chunks(columns, [example]))
    return {200: {"description": description, "content": {CSV: {"schema": {"type": "string"}, "example": text}}}}
