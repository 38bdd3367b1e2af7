"""Rules of collateral: a vehicle that backs live accounts at two members is a double pledge,
told to both (each about its own account, never naming the other member)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import asyncpg

from registry.collateral import repository
from registry.core.tenancy import Tenancy


async def raise_double_pledge_alerts(
    conn: asyncpg.Connection, tenancy: Tenancy, record_ids: Sequence[uuid.UUID], today: date | None
) -> int:
    """Call in the transaction that wrote `record_ids` (the reporter's records that now carry
    a vehicle): one `collateral.double_pledge` alert per side of each new pair of live
    accounts on the same vehicle. One statement whatever the batch; returns alerts raised."""
    if not record_ids:
        return 0
    async with tenancy.across_members(conn):  # other members' pledges and alerts
        return await repository.raise_double_pledge_alerts(conn, tenancy.member, record_ids, today or date.today())
