"""The request pool's release: work that leaves no session state skips asyncpg's reset round
trip, and nothing a request may leave behind reaches the next one: a tenant context ends with
its transaction, a failed use and any other use are reset in full."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from registry.core.db import Database, statements
from registry.core.tenancy import Member, Tenancy

CONTEXT = "SELECT member FROM registry_context()"


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The service's request pool, with one connection so every acquire gets the same one."""
    db = Database(database_url, min_size=1, max_size=1)
    await db.connect()
    yield db.pool
    await db.close()


async def test_a_stateless_use_skips_the_reset_round_trip(one_connection):
    async with statements(one_connection) as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        # What the reset would have undone: proof that no reset query was sent.
        await conn.execute("SET application_name = 'left-behind'")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == backend
        assert await conn.fetchval("SHOW application_name") == "left-behind"


async def test_any_other_use_is_reset_in_full(one_connection):
    async with one_connection.acquire() as conn:
        await conn.execute("SET application_name = 'left-behind'")
        await conn.execute("SELECT pg_advisory_lock(18)")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") != "left-behind"
        assert not await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
    # and the mark of a stateless use does not carry over to the next, ordinary use
    async with statements(one_connection):
        pass
    async with one_connection.acquire() as conn:
        await conn.execute("SET application_name = 'left-behind'")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") != "left-behind"


async def test_a_failed_stateless_use_is_reset_in_full(one_connection):
    with pytest.raises(RuntimeError):
        async with statements(one_connection) as conn:
            await conn.execute("SET application_name = 'left-behind'")
            raise RuntimeError("the route failed")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") != "left-behind"


async def test_a_tenant_context_does_not_outlive_its_transaction(one_connection, prover, registry):
    member = await registry.member()
    tenancy = Tenancy(prover, Member(member.id), member.client.client_id)
    async with statements(one_connection) as conn, conn.transaction():
        await tenancy.enter(conn)
        assert await conn.fetchval(CONTEXT) == member.id
    async with statements(one_connection) as conn:
        assert await conn.fetchval(CONTEXT) is None
        await conn.execute("BEGIN")  # left open: the pool rolls it back on release
        await tenancy.enter(conn)
        assert await conn.fetchval(CONTEXT) == member.id
    async with one_connection.acquire() as conn:
        assert await conn.fetchval(CONTEXT) is None
