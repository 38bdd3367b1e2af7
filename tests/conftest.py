"""Test fixtures: one real PostgreSQL database per run (TEST_DATABASE_URL's server when set,
an embedded server otherwise), migrated once; the app served through ASGI in-process.

Tests share the database and keep apart by creating their own members (unique codes), so
no test depends on another's rows; tests that need a pristine database make their own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace

import asyncpg
import httpx
import pytest

from registry.app import create_app
from registry.config import Environment, Settings
from registry.core import migrate
from registry.core.db import init_connection
from tests.databases import create_database, drop_database, server_url_and_handle, with_database
from tests.factories import Registry


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    url, handle = server_url_and_handle()
    yield url
    if handle is not None:
        handle.cleanup()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    name = f"registry_test_{secrets.token_hex(4)}"
    asyncio.run(create_database(server_url, name))
    url = with_database(server_url, name)
    migrate.upgrade(url)
    yield url
    asyncio.run(drop_database(server_url, name))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env=Environment.test,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("registry-data"),
        max_body_bytes=1_000_000,
        # Tests share one client address; the per-address throttle is tested on its own.
        token_failures_per_address=100_000,
        console_failures_per_address=100_000,  # the console's per-address throttle: tests/console
        # The association's token is fetched once per run: it must outlive a slow run.
        access_token_ttl_seconds=3600,
        webhook_poll_seconds=0,  # tests run delivery passes themselves (tests/monitoring/test_monitoring_webhooks.py)
        audit_publish_seconds=0,  # tests publish checkpoint heads themselves (tests/audit/test_audit_sealing.py)
        # Tests run retention passes themselves, on the days they choose (tests/retention/test_retention.py);
        # a pass the app ran at start for the real day would take that day from them.
        retention_daily=False,
        dispute_check_seconds=0,  # tests run deadline checks themselves (tests/disputes/test_dispute_alerts.py)
        # Tests set the clock back and forth and write inquiries in the past; the rollups are
        # tested on databases of their own (tests/stats/test_rollups.py).
        stats_rollup_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def http(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        yield client


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The tests' own login (the server's superuser): sees and changes everything."""
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=4, init=init_connection)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def prover(pool: asyncpg.Pool):
    """Proves tenant contexts as the service does (the key is read with the tests' own login)."""
    from registry.core.tenancy import ContextProver

    return ContextProver(bytes(await pool.fetchval("SELECT key FROM registry_context_key")))


@pytest.fixture
async def app_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection logged in as the service's request login, like the service's own pool."""
    from registry.core.db import connect, with_user

    conn = await connect(with_user(database_url, "registry_app"))
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def registry(http: httpx.AsyncClient, pool: asyncpg.Pool) -> Registry:
    """The association, bootstrapped once, and helpers to make members and clients."""
    return await Registry.bootstrap(http, pool)


@pytest.fixture
def clock(app):
    """Set the service's clock: `clock.set(datetime)`; restored after the test."""
    from datetime import datetime

    runtime = app.state.runtime
    original = runtime.clock

    class Clock:
        def set(self, moment: datetime) -> None:
            runtime.clock = lambda: moment

    yield Clock()
    runtime.clock = original


# --- a service of its own: for tests that tamper with or publish to a whole database -------


@pytest.fixture
async def own_database(server_url):
    """A freshly migrated database of the test's own on the tests' server, dropped after."""
    name = f"registry_own_{secrets.token_hex(4)}"
    await create_database(server_url, name)
    url = with_database(server_url, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(server_url, name)


@pytest.fixture
async def own_app(own_database, tmp_path):
    """The service on a database of its own, with no background sealer or publisher: tests
    that tamper with the log, or publish to every member, keep the shared database clean."""
    settings = Settings(
        env=Environment.test,
        database_url=own_database,
        data_dir=tmp_path / "data",
        audit_seal_seconds=0,
        audit_publish_seconds=0,
        webhook_poll_seconds=0,
        retention_daily=False,
        stats_rollup_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http,
            asyncpg.create_pool(own_database, min_size=1, max_size=2, init=init_connection) as db_pool,
        ):
            registry = await Registry.bootstrap(http, db_pool)
            yield SimpleNamespace(
                app=application, runtime=application.state.runtime, http=http, registry=registry, pool=db_pool
            )
