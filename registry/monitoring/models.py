"""Tables of portfolio monitoring: `watches`, `alerts`, the member's `webhooks` endpoint and
the `webhook_deliveries` outbox that is written in the same transaction as each alert.

Tokens are never stored in the clear: a watch keeps `subject_key` (as records do) and the
token sealed with a key derived from K_server (`sealing.py`), so the watching member can be
told which of its borrowers an alert is about while a database dump still links to nothing."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column, timestamp

# The id of the transaction that wrote a row, as a bigint (xid8 has no SQLAlchemy type).
CURRENT_TXID = sa.text("(pg_current_xact_id())::text::bigint")


# Alerts the association receives about its members (registry/monitoring/association.py).
ASSOCIATION_ALERT_KINDS = ("member.threshold_crossed", "member.threshold_cleared", "dispute.overdue")
_ASSOCIATION_KIND_LIST = ",".join(f"'{k}'" for k in ASSOCIATION_ALERT_KINDS)
# Alerts to a lender about a dispute that covers its records (registry/disputes/notifications.py).
LENDER_DISPUTE_ALERT_KINDS = ("dispute.opened", "dispute.deadline_near", "dispute.resolved")
_LENDER_DISPUTE_KIND_LIST = ",".join(f"'{k}'" for k in LENDER_DISPUTE_ALERT_KINDS)
# Alerts about a watched subject (a borrower, or a vehicle for `collateral.watched_vehicle`).
SUBJECT_ALERT_KINDS = ("new_delinquency", "worsened", "hard_inquiry", "collateral.watched_vehicle")
_SUBJECT_KIND_LIST = ",".join(f"'{k}'" for k in SUBJECT_ALERT_KINDS)
ALERT_KIND_KNOWN = (
    f"kind IN ({_SUBJECT_KIND_LIST},'audit_checkpoint','collateral.double_pledge',{_ASSOCIATION_KIND_LIST},"
    f"{_LENDER_DISPUTE_KIND_LIST})"
)
ALERT_SHAPE = (
    "CASE WHEN kind = 'audit_checkpoint' "
    "THEN checkpoint_id IS NOT NULL AND subject_key IS NULL AND subject_sealed IS NULL "
    "AND source_member_id IS NULL AND details IS NULL "
    f"WHEN kind IN ({_ASSOCIATION_KIND_LIST}) "
    "THEN checkpoint_id IS NULL AND subject_key IS NULL AND subject_sealed IS NULL AND details IS NOT NULL "
    "WHEN kind = 'collateral.double_pledge' "
    "THEN checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NULL "
    "AND source_member_id IS NOT NULL AND account_ref IS NOT NULL AND record_id IS NOT NULL "
    "AND other_record_id IS NOT NULL AND details IS NULL "
    f"WHEN kind IN ({_LENDER_DISPUTE_KIND_LIST}) "
    "THEN dispute_id IS NOT NULL AND details IS NOT NULL AND checkpoint_id IS NULL AND subject_key IS NULL "
    "AND subject_sealed IS NULL AND source_member_id IS NULL "
    "ELSE checkpoint_id IS NULL AND subject_key IS NOT NULL AND subject_sealed IS NOT NULL "
    "AND source_member_id IS NOT NULL AND details IS NULL END"
)


class Watch(SQLModel, table=True):
    __tablename__ = "watches"
    __table_args__ = (
        sa.Index("ix_watches_subject_key", "subject_key"),
        sa.Index("ix_watches_member_id_id", "member_id", "id"),
        sa.CheckConstraint("octet_length(subject_key) = 32", name="subject_key_length"),
    )

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    subject_key: bytes = column(pg.BYTEA, primary_key=True)
    id: int | None = column(sa.BigInteger, sa.Identity(always=True))
    subject_sealed: bytes = column(pg.BYTEA)
    label: str | None = column(sa.Text, nullable=True)
    created_at: datetime | None = timestamp()


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        # The feed reads a member's alerts in (txid, id) order: see repository.FEED.
        sa.Index("ix_alerts_member_id_txid_id", "member_id", "txid", "id"),
        # One hard-inquiry alert per watcher, subject, inquiring institution and day.
        sa.Index(
            "uq_alerts_hard_inquiry_per_day",
            "member_id",
            "subject_key",
            "source_member_id",
            "source_day",
            unique=True,
            postgresql_where=sa.text("kind = 'hard_inquiry'"),
        ),
        # The publisher's look-up of the last published checkpoint head.
        sa.Index("ix_alerts_checkpoint_id", "checkpoint_id", postgresql_where=sa.text("kind = 'audit_checkpoint'")),
        # One double-pledge alert per receiving member and pair of accounts (registry/collateral).
        sa.Index(
            "uq_alerts_double_pledge_per_pair",
            "member_id",
            "record_id",
            "other_record_id",
            unique=True,
            postgresql_where=sa.text("kind = 'collateral.double_pledge'"),
        ),
        # One watched-vehicle alert per watcher and other member's record.
        sa.Index(
            "uq_alerts_watched_vehicle_per_record",
            "member_id",
            "other_record_id",
            unique=True,
            postgresql_where=sa.text("kind = 'collateral.watched_vehicle'"),
        ),
        # One alert of each dispute kind per lender and dispute (registry/disputes/notifications.py).
        sa.Index(
            "uq_alerts_dispute_once",
            "member_id",
            "dispute_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("dispute_id IS NOT NULL"),
        ),
        sa.CheckConstraint(ALERT_KIND_KNOWN, name="kind_known"),
        # An alert is about a watched subject (caused by a member), is a published head of the
        # audit checkpoint chain (registry/audit/publishing.py), which has neither, is an
        # association alert (registry/monitoring/association.py), which carries its details, or
        # is a double pledge (registry/collateral), which names the receiver's own account.
        sa.CheckConstraint(ALERT_SHAPE, name="shape"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    subject_key: bytes | None = column(pg.BYTEA, nullable=True)
    subject_sealed: bytes | None = column(pg.BYTEA, nullable=True)
    label: str | None = column(sa.Text, nullable=True)
    kind: str = column(sa.Text)
    status: str | None = column(sa.Text, nullable=True)
    # Who caused the alert: kept for oversight and de-duplication, never shown to the watcher.
    source_member_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), nullable=True)
    checkpoint_id: int | None = column(sa.BigInteger, sa.ForeignKey("audit_checkpoints.id"), nullable=True)
    source_day: date | None = column(sa.Date, nullable=True)
    dispute_id: uuid.UUID | None = column(
        pg.UUID(as_uuid=True), sa.ForeignKey("disputes.id", ondelete="CASCADE"), nullable=True
    )
    # What a dispute alert tells its lender (the deadline, its own records, the outcome), or what
    # an association alert says (the member, the figure, its value and the limit).
    details: dict | None = column(pg.JSONB, nullable=True)
    txid: int | None = column(sa.BigInteger, server_default=CURRENT_TXID)
    at: datetime | None = timestamp()
    # A collateral alert: the receiving member's own account, and the other member's (never shown).
    account_ref: str | None = column(sa.Text, nullable=True)
    record_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), nullable=True)
    other_record_id: uuid.UUID | None = column(pg.UUID(as_uuid=True), nullable=True)


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"

    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"), primary_key=True)
    url: str = column(sa.Text)
    secret_sealed: bytes = column(pg.BYTEA)
    created_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_member_id_id", "member_id", "id"),
        sa.Index(
            "ix_webhook_deliveries_next_attempt_at",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.CheckConstraint("event IN ('alert','ping')", name="event_known"),
        sa.CheckConstraint("status IN ('pending','delivered','failed','cancelled')", name="status_known"),
    )

    id: int | None = column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    member_id: uuid.UUID = column(pg.UUID(as_uuid=True), sa.ForeignKey("members.id"))
    alert_id: int | None = column(sa.BigInteger, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True)
    event: str = column(sa.Text)
    status: str = column(sa.Text, server_default="pending")
    attempts: int = column(sa.Integer, server_default=sa.text("0"))
    next_attempt_at: datetime | None = timestamp()
    last_attempt_at: datetime | None = timestamp(nullable=True, default_now=False)
    last_status_code: int | None = column(sa.SmallInteger, nullable=True)
    last_error: str | None = column(sa.Text, nullable=True)
    created_at: datetime | None = timestamp()
    delivered_at: datetime | None = timestamp(nullable=True, default_now=False)
