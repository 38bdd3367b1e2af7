"""Migrations go up, down and up again cleanly, and the models match the migrated schema."""

import asyncio
import secrets

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from registry.core import migrate
from registry.core.db import sqlalchemy_url
from registry.models import metadata
from tests.databases import create_database, drop_database, with_database


async def _diff(url: str) -> list:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync_conn: compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(server_url):
    name = f"registry_mig_{secrets.token_hex(4)}"
    asyncio.run(create_database(server_url, name))
    url = with_database(server_url, name)
    try:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        migrate.upgrade(url)
        assert asyncio.run(_diff(url)) == []
    finally:
        asyncio.run(drop_database(server_url, name))
