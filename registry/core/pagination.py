"""Cursor pagination: `{data, next_cursor}` pages whose cursor is an opaque token."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field

from registry.core.errors import FieldError, Invalid

T = TypeVar("T")
R = TypeVar("R")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page", examples=[None]
    )

    @classmethod
    def from_rows(cls, rows: Sequence[R], limit: int, item: Callable[[R], T], cursor: Callable[[R], str]) -> Page[T]:
        """A page of at most `limit` items from `rows`, fetched with LIMIT `limit + 1`: one
        row more than the page means there is a next page, after the page's last row."""
        more = len(rows) > limit
        return cls(data=[item(row) for row in rows[:limit]], next_cursor=cursor(rows[limit - 1]) if more else None)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, orjson.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(isinstance(v, str | int) for v in values):
        raise Invalid("The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")])
    return values


CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from a previous page")]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]


def encode_created_cursor(created_at: datetime, id_: uuid.UUID) -> str:
    """The cursor after a row of a list ordered by (created_at, id)."""
    return encode_cursor([created_at.isoformat(), str(id_)])


def decode_created_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) position of a cursor made by `encode_created_cursor`."""
    position = decode_cursor(cursor, 2)
    if not position:
        return None
    try:
        return datetime.fromisoformat(str(position[0])), uuid.UUID(str(position[1]))
    except ValueError:
        raise Invalid(
            "The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")]
        ) from None


def created_cursor(row: Any) -> str:
    """The cursor after a row (with `created_at` and `id`) of a list ordered by them."""
    return encode_created_cursor(row.created_at, row.id)


def id_cursor(row: Any) -> str:
    """The cursor after a row of a list ordered by its integer `id`."""
    return encode_cursor([row.id])
