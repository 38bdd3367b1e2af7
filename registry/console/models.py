"""Tables of the console: the association's staff (people, not API clients), their
server-side sessions, and failed sign-ins (the throttle counts them)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp, uuid_pk


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    __table_args__ = (
        sa.CheckConstraint("role IN ('admin','dispute_officer','analyst','auditor')", name="role_known"),
        sa.CheckConstraint("status IN ('active','disabled')", name="status_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: uuid.UUID | None = uuid_pk()
    email: str = column(sa.Text, unique=True)
    role: str = column(sa.Text)
    status: str = column(sa.Text, server_default="active")
    # argon2id (PHC string); never logged.
    password_hash: str = column(sa.Text)
    # The RFC 6238 secret, sealed under K_server (registry/monitoring/sealing.py).
    totp_sealed: bytes = column(pg.BYTEA)
    # The last time step whose code was accepted: a code is usable once.
    totp_last_step: int = column(sa.BigInteger, server_default=sa.text("0"))
    created_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_sessions"
    __table_args__ = (sa.Index("ix_staff_sessions_staff_id", "staff_id"),)

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    # SHA-256 of the cookie's value: a copy of the table opens no session.
    token_hash: bytes = column(pg.BYTEA, unique=True)
    staff_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("staff.id", ondelete="CASCADE"))
    csrf_token: str = column(sa.Text)
    address: str | None = column(sa.Text, nullable=True)
    created_at: datetime | None = timestamp()
    last_seen_at: datetime | None = timestamp()
    ended_at: datetime | None = timestamp(nullable=True, default_now=False)


class StaffLoginFailure(SQLModel, table=True):
    __tablename__ = "staff_login_failures"
    __table_args__ = (
        sa.Index("ix_staff_login_failures_email_at", "email", "at"),
        sa.Index("ix_staff_login_failures_address_at", "address", "at"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    email: str = column(sa.Text)
    address: str = column(sa.Text)
    at: datetime | None = timestamp()
