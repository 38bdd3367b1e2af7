"""Rules of records: each item validated alone and applied atomically with its event;
stale reports ignored; a member reads and withdraws only its own records."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

import asyncpg

from registry.audit.schemas import AuditIntent
from registry.auth.principal import Principal
from registry.core.db import Tx, as_association
from registry.core.errors import FieldError, Invalid, NotFound
from registry.core.metrics import RECORDS, count
from registry.core.pagination import Page, decode_created_cursor, encode_created_cursor
from registry.core.subjects import is_token, subject_key
from registry.idempotency import service as idempotency
from registry.monitoring import service as monitoring
from registry.records import repository
from registry.records.schemas import (
    BatchResult,
    BatchSummary,
    ItemResult,
    Outcome,
    RecordDetail,
    RecordEventOut,
    RecordOut,
)
from registry.records.validation import ValidItem, format_minor, validate_item
from registry.records.vocabulary import DELINQUENT_SEVERITY

SUBMIT_ROUTE = "POST /v1/records"


def _duplicate_refs(records: list[Any]) -> list[str]:
    refs = Counter(r.get("account_ref") for r in records if isinstance(r, dict) and isinstance(r.get("account_ref"), str))
    return sorted(ref for ref, n in refs.items() if n > 1)


async def submit(
    tx: Tx,
    principal: Principal,
    records: list[Any],
    *,
    server_key: bytes,
    today: date,
    idempotency_key: str | None,
    audit: AuditIntent,
) -> BatchResult:
    duplicates = _duplicate_refs(records)
    if duplicates:
        raise Invalid(
            "An account_ref appears more than once in the batch; nothing was written",
            errors=[FieldError(field="records", message=f"duplicate account_ref: {ref}") for ref in duplicates[:20]],
        )
    claim, replay = await idempotency.claim(tx, principal.member_id, SUBMIT_ROUTE, idempotency_key, records)
    if replay is not None:
        audit.details = {"idempotent_replay": True, **replay.get("summary", {})}
        return BatchResult.model_validate(replay)

    results: list[ItemResult | None] = [None] * len(records)
    valid: list[ValidItem] = []
    for index, raw in enumerate(records):
        checked = validate_item(index, raw, server_key, today)
        if isinstance(checked, list):
            ref = raw.get("account_ref") if isinstance(raw, dict) and isinstance(raw.get("account_ref"), str) else None
            results[index] = ItemResult(index=index, account_ref=ref, outcome=Outcome.rejected, record_id=None, errors=checked)
        else:
            valid.append(checked)

    if valid:
        for written in await write_valid(tx.conn, principal.member_id, valid, today=today):
            results[written.index] = written

    final = [r for r in results if r is not None]
    counts = Counter(r.outcome.value for r in final)
    count(RECORDS, counts.elements())
    summary = BatchSummary(**{o.value: counts.get(o.value, 0) for o in Outcome})
    result = BatchResult(results=final, summary=summary)
    audit.details = summary.model_dump()
    audit.resource = "records"
    await idempotency.complete(tx, claim, 200, result.model_dump(mode="json"))
    return result


async def write_valid(
    conn: asyncpg.Connection,
    member_id: uuid.UUID,
    valid: Sequence[ValidItem],
    *,
    today: date | None = None,
) -> list[ItemResult]:
    """The one write path of records: apply valid items, at most one per account_ref, and
    give each its result (see apply_valid)."""
    return [
        ItemResult(index=v.index, account_ref=v.item.account_ref, outcome=outcome, record_id=record_id)
        for v, outcome, record_id in await apply_valid(conn, member_id, valid, today=today)
    ]


async def apply_valid(
    conn: asyncpg.Connection,
    member_id: uuid.UUID,
    valid: Sequence[ValidItem],
    *,
    today: date | None = None,
) -> list[tuple[ValidItem, Outcome, uuid.UUID]]:
    """The write path of records item by item (POST /v1/records): apply valid items, at
    most one per account_ref, and give each its outcome and record id."""
    rows = await repository.upsert(conn, member_id, valid)
    await _alert_watchers(conn, member_id, [row["id"] for row in rows if row["severity"] >= DELINQUENT_SEVERITY], today)
    applied = {row["account_ref"]: row for row in rows}
    untouched = [v.item.account_ref for v in valid if v.item.account_ref not in applied]
    stored = {}
    if untouched:
        stored = {row["account_ref"]: row for row in await repository.current_versions(conn, member_id, untouched)}
    results = []
    for v in valid:
        ref = v.item.account_ref
        if ref in applied:
            row = applied[ref]
            outcome = Outcome.created if row["inserted"] else Outcome.updated
        else:
            row = stored[ref]
            outcome = Outcome.stale if row["as_of"] > v.item.as_of else Outcome.unchanged
        results.append((v, outcome, row["id"]))
    return results


async def apply_counted(
    conn: asyncpg.Connection,
    member_id: uuid.UUID,
    total: int,
    upsert_counted: Callable[[], Awaitable[asyncpg.Record]],
    *,
    today: date | None = None,
) -> Counter[str]:
    """The write path of records in bulk (uploads): `upsert_counted` runs the same upsert
    over `total` valid rows already in the database, at most one per account_ref, answering
    repository.COUNTED; returns how many rows had each outcome. Nothing per row comes back
    to the service."""
    counted = await upsert_counted()
    await _alert_watchers(conn, member_id, counted["delinquent"], today)
    outcomes = Counter({Outcome.created.value: counted["created"], Outcome.updated.value: counted["updated"],
                        Outcome.stale.value: counted["stale"]})
    outcomes[Outcome.unchanged.value] = total - sum(outcomes.values())
    return +outcomes  # without the zeros


async def _alert_watchers(conn: asyncpg.Connection, member_id: uuid.UUID, delinquent: list[uuid.UUID],
                          today: date | None) -> None:
    """Other members watching a subject that became delinquent or worse are alerted in the
    same transaction."""
    if delinquent:
        async with as_association(conn):  # other members' watches and alerts
            await monitoring.raise_delinquency_alerts(conn, member_id, delinquent, today)


def _record_out(row: Any) -> dict[str, Any]:
    data = dict(row)
    currency = data["currency"]
    for name in ("principal", "outstanding", "overdue"):
        data[f"{name}_amount"] = format_minor(data.pop(f"{name}_minor"), currency)
    return data


def token_filter(server_key: bytes, subject: str | None) -> bytes | None:
    if subject is None:
        return None
    if not is_token(subject):
        raise Invalid("subject must be a 64-hex-character token", errors=[FieldError(field="subject", message="not a token")])
    return subject_key(server_key, subject)


async def list_records(
    tx: Tx,
    principal: Principal,
    *,
    server_key: bytes,
    subject: str | None,
    status: str | None,
    product: str | None,
    cursor: str | None,
    limit: int,
    today: date,
) -> Page[RecordOut]:
    after = decode_created_cursor(cursor)
    rows = await repository.list_own(
        tx.conn,
        principal.member_id,
        subject_key=token_filter(server_key, subject),
        status=status,
        product=product,
        after=after,
        limit=limit + 1,
        today=today,
    )
    data = [RecordOut.model_validate(_record_out(r)) for r in rows[:limit]]
    next_cursor = encode_created_cursor(data[-1].created_at, data[-1].id) if len(rows) > limit else None
    return Page[RecordOut](data=data, next_cursor=next_cursor)


async def get_record(tx: Tx, principal: Principal, record_id: uuid.UUID, audit: AuditIntent) -> RecordDetail:
    audit.resource = f"record:{record_id}"
    row = await repository.get_own(tx.conn, principal.member_id, record_id)
    if row is None:
        raise NotFound("No record with that id")
    events = [RecordEventOut.model_validate(dict(e)) for e in await repository.events_of(tx.conn, principal.member_id, record_id)]
    return RecordDetail.model_validate({**_record_out(row), "events": events})


async def withdraw(tx: Tx, principal: Principal, record_id: uuid.UUID, audit: AuditIntent) -> RecordOut:
    audit.resource = f"record:{record_id}"
    row = await repository.withdraw(tx.conn, principal.member_id, record_id)
    if row is None:
        row = await repository.get_own(tx.conn, principal.member_id, record_id)
        if row is None:
            raise NotFound("No record with that id")
        audit.details = {"already_withdrawn": True}
    else:
        await monitoring.end_watches_after_withdrawal(tx.conn, principal.member_id, [record_id])
    return RecordOut.model_validate(_record_out(row))
