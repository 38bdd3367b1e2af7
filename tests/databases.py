"""The PostgreSQL the tests run against: TEST_DATABASE_URL's server when set, an embedded
one otherwise; and databases of their own on it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import asyncpg

from registry.core.db import asyncpg_dsn


def server_url_and_handle() -> tuple[str, object | None]:
    """URL of a database on the server tests run against, and the embedded handle if any."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return asyncpg_dsn(url), None
    from registry.core.embedded import socket_url, start_embedded

    root = Path(tempfile.mkdtemp(prefix="registry-test-pg-"))
    server = start_embedded(root)
    return socket_url(server, "postgres"), server


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name`."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def create_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
