"""SQL of the subject report: what is held about one subject key, with institution names."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from registry.records.repository import RECORD_COLUMNS


async def records(conn: asyncpg.Connection, subject_key: bytes, today: date) -> list[asyncpg.Record]:
    """Every live record (neither withdrawn nor expired), suppressed ones included, with the
    disputes that covered it (so the borrower's statements stay with the record)."""
    columns = ", ".join(f"r.{c.strip()}" for c in RECORD_COLUMNS.split(","))
    return await conn.fetch(
        f"""
        SELECT {columns}, m.code AS institution_code, m.name AS institution_name,
               coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'dispute_id', d.id, 'reason', d.reason, 'statement', d.statement, 'status', d.status,
                              'resolution', d.resolution, 'received_at', d.received_at) ORDER BY d.received_at)
                   FROM dispute_records dr JOIN disputes d ON d.id = dr.dispute_id
                   WHERE dr.record_id = r.id
               ), '[]'::jsonb) AS disputes
        FROM records r JOIN members m ON m.id = r.member_id
        WHERE r.subject_key = $1 AND r.withdrawn_at IS NULL AND (r.expires_on IS NULL OR r.expires_on > $2)
        ORDER BY m.code, r.account_ref
        """,
        subject_key, today,
    )


async def inquiries(conn: asyncpg.Connection, subject_key: bytes, since: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT m.code AS institution_code, m.name AS institution_name, i.purpose, i.consent_ref, i.at
        FROM inquiries i JOIN members m ON m.id = i.member_id
        WHERE i.subject_key = $1 AND i.at >= $2
        ORDER BY i.at DESC, i.id DESC
        """,
        subject_key, since,
    )
