"""Shared pieces of table definitions: the metadata naming convention and column helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

# Stable constraint names, so migrations can refer to them and autogenerate stays quiet.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def uuid_pk(generator: str = "gen_random_uuid()") -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(pg.UUID(as_uuid=True), primary_key=True, server_default=sa.text(generator)),
    )


def timestamp(nullable: bool = False, default_now: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            sa.TIMESTAMP(timezone=True),
            nullable=nullable,
            server_default=sa.text("now()") if default_now else None,
        ),
    )


def column(type_: Any, *args: Any, nullable: bool = False, **kwargs: Any) -> Any:
    return Field(default=None, sa_column=sa.Column(type_, *args, nullable=nullable, **kwargs))


__all__ = ["SQLModel", "column", "datetime", "metadata", "timestamp", "uuid_pk"]
