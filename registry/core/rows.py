"""Typed rows: repositories answer frozen dataclasses, never `asyncpg.Record`s that services
would index by string. A row class names its columns once; `columns()` writes its SELECT
list from the same names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, TypeVar

R = TypeVar("R")


def columns(row_type: type[Any], alias: str | None = None) -> str:
    """The SELECT list of a row class: its field names, each prefixed by `alias.` if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + f.name for f in dataclasses.fields(row_type))


def one(row_type: type[R], record: Any) -> R | None:
    return None if record is None else row_type(**record)


def many(row_type: type[R], records: Iterable[Any]) -> list[R]:
    return [row_type(**record) for record in records]


def as_dict(row: Any) -> dict[str, Any]:
    """A row's fields by name (shallow)."""
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
