"""SQL of the subject report: what is held about one subject key, with institution names
(the association reads across members)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from registry.core import rows
from registry.core.tenancy import Association
from registry.records import rules
from registry.records.repository import RecordRow


@dataclass(frozen=True, slots=True)
class ReportedRecordRow(RecordRow):
    institution_code: str
    institution_name: str
    disputes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PartyRecordRow:
    """An account where the subject is a guarantor or co-borrower, not the borrower."""

    id: uuid.UUID
    institution_code: str
    institution_name: str
    account_ref: str
    role: str
    product: str
    status: str
    currency: str
    outstanding_minor: int
    overdue_minor: int
    as_of: date
    link_removed: bool


@dataclass(frozen=True, slots=True)
class ReportedInquiryRow:
    institution_code: str
    institution_name: str
    purpose: str
    consent_ref: str | None
    at: datetime


async def records(conn: asyncpg.Connection, _: Association, subject_key: bytes, today: date) -> list[ReportedRecordRow]:
    """Every live record (neither withdrawn nor expired), suppressed ones included, with the
    disputes that covered it (so the borrower's statements stay with the record)."""
    return rows.many(
        ReportedRecordRow,
        await conn.fetch(
            f"""
        SELECT {rows.columns(RecordRow, "r")}, m.code AS institution_code, m.name AS institution_name,
               coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'dispute_id', d.id, 'reason', d.reason, 'statement', d.statement, 'status', d.status,
                              'resolution', d.resolution, 'received_at', d.received_at) ORDER BY d.received_at)
                   FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
                   WHERE dr.record_id = r.id
               ), '[]'::jsonb) AS disputes
        FROM records r JOIN members m ON m.id = r.member_id
        WHERE r.subject_key = $1 AND {rules.held("r", "$2")}
        ORDER BY m.code, r.account_ref
        """,
            subject_key,
            today,
        ),
    )


async def party_records(
    conn: asyncpg.Connection, _: Association, subject_key: bytes, today: date
) -> list[PartyRecordRow]:
    """Every held record naming the subject as a party, removed links included (marked)."""
    return rows.many(
        PartyRecordRow,
        await conn.fetch(
            f"""
        SELECT r.id, m.code AS institution_code, m.name AS institution_name, r.account_ref, p.role, r.product,
               r.status, r.currency, r.outstanding_minor, r.overdue_minor, r.as_of,
               p.removed_at IS NOT NULL AS link_removed
        FROM record_parties p JOIN records r ON r.id = p.record_id JOIN members m ON m.id = r.member_id
        WHERE p.subject_key = $1 AND {rules.held("r", "$2")}
        ORDER BY m.code, r.account_ref
        """,
            subject_key,
            today,
        ),
    )


async def inquiries(
    conn: asyncpg.Connection, _: Association, subject_key: bytes, since: datetime
) -> list[ReportedInquiryRow]:
    return rows.many(
        ReportedInquiryRow,
        await conn.fetch(
            """
        SELECT m.code AS institution_code, m.name AS institution_name, i.purpose, i.consent_ref, i.at
        FROM inquiries i JOIN members m ON m.id = i.member_id
        WHERE i.subject_key = $1 AND i.at >= $2
        ORDER BY i.at DESC, i.id DESC
        """,
            subject_key,
            since,
        ),
    )
