"""Tables of collateral monitoring: `vehicle_watches`, a member's watch on the vehicle of one
of its own live accounts (kept like a borrower watch: the key, and the token sealed for the
member). The pledges themselves are `record_collateral` (registry/records/link_models.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp


class VehicleWatch(SQLModel, table=True):
    __tablename__ = "vehicle_watches"
    __table_args__ = (
        sa.Index("ix_vehicle_watches_vehicle_key", "vehicle_key"),
        sa.Index("ix_vehicle_watches_member_id_id", "member_id", "id"),
        sa.CheckConstraint("octet_length(vehicle_key) = 32", name="vehicle_key_length"),
    )

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    vehicle_key: bytes = column(pg.BYTEA, primary_key=True)
    id: int | None = column(sa.BigInteger, sa.Identity(always=True))
    vehicle_sealed: bytes = column(pg.BYTEA)
    label: str | None = column(sa.Text, nullable=True)
    created_at: datetime | None = timestamp()
