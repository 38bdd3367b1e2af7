"""Typed rows: repositories answer frozen dataclasses, never `asyncpg.Record`s that services
would index by string. A row class names its columns once; `columns()` writes its SELECT
list from the same names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, TypeVar

import asyncpg

R = TypeVar("R")


def columns(row_type: type[Any], alias: str | None = None) -> str:
    """The SELECT list of a row class: its field names, each prefixed by `alias.` if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + f.name for f in dataclasses.fields(row_type))


def one(row_type: type[R], record: Any) -> R | None:
    return None if record is None else row_type(**record)


def many(row_type: type[R], records: Iterable[Any]) -> list[R]:
    """A row per record. When the records' columns are the row's fields in order (a
    `columns()` SELECT list, a function's RESULT_COLUMNS), by position: a record read by
    name costs three times as much, which a 1000-subject exposure answer pays per row."""
    records = list(records)
    if records and isinstance(records[0], asyncpg.Record) and tuple(records[0].keys()) == _field_names(row_type):
        return [row_type(*record) for record in records]
    return [row_type(**record) for record in records]


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(row_type: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(row_type)
    if names is None:
        names = _FIELD_NAMES[row_type] = tuple(f.name for f in dataclasses.fields(row_type))
    return names


def as_dict(row: Any) -> dict[str, Any]:
    """A row's fields by name (shallow)."""
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
