"""Rules of records: each item validated alone and applied atomically with its event;
stale reports ignored; a member reads and withdraws only its own records."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

import asyncpg

from registry.collateral import service as collateral
from registry.context import MemberContext
from registry.core import rows
from registry.core.errors import FieldError, Invalid, NotFound
from registry.core.metrics import RECORDS, count
from registry.core.pagination import Page, created_cursor, decode_created_cursor, decode_cursor, encode_cursor
from registry.core.subjects import SubjectKeyer, is_token
from registry.core.tenancy import Tenancy
from registry.idempotency import service as idempotency
from registry.monitoring import service as monitoring
from registry.records import parties, repository, subject_types
from registry.records.repository import Counted, ListFilters, RecordRow
from registry.records.schemas import (
    BatchResult,
    BatchSummary,
    ItemResult,
    RecordDetail,
    RecordEventOut,
    RecordOut,
    RecordOutcome,
)
from registry.records.validation import ValidItem, format_minor, validate_item
from registry.records.vocabulary import DELINQUENT_SEVERITY, is_delinquent
from registry.scorecards import service as scorecards


def _duplicate_refs(records: list[Any]) -> list[str]:
    refs = Counter(
        r.get("account_ref") for r in records if isinstance(r, dict) and isinstance(r.get("account_ref"), str)
    )
    return sorted(ref for ref, n in refs.items() if n > 1)


async def submit(ctx: MemberContext, records: list[Any], idempotency_key: str | None) -> BatchResult:
    duplicates = _duplicate_refs(records)
    if duplicates:
        raise Invalid(
            "An account_ref appears more than once in the batch; nothing was written",
            errors=[FieldError(field="records", message=f"duplicate account_ref: {ref}") for ref in duplicates[:20]],
        )
    claim, replay = await idempotency.claim(ctx.tx, ctx.idempotency(idempotency_key), records)
    if replay is not None:
        ctx.audit.details = {"idempotent_replay": True, **replay.get("summary", {})}
        return BatchResult.model_validate(replay)

    today = ctx.today
    server_key = ctx.runtime.keys.server_key
    results: list[ItemResult | None] = [None] * len(records)
    valid: list[ValidItem] = []
    for index, raw in enumerate(records):
        checked = validate_item(index, raw, server_key, today)
        if isinstance(checked, list):
            ref = raw.get("account_ref") if isinstance(raw, dict) and isinstance(raw.get("account_ref"), str) else None
            results[index] = ItemResult(
                index=index, account_ref=ref, outcome=RecordOutcome.rejected, record_id=None, errors=checked
            )
        else:
            valid.append(checked)

    if valid:
        claims = [subject_types.claims_of(v, server_key) for v in valid]
        refused = await subject_types.contradictions(ctx.conn, ctx.tenancy, claims, today)
        for position, errors in refused.items():
            v = valid[position]
            results[v.index] = ItemResult(
                index=v.index,
                account_ref=v.item.account_ref,
                outcome=RecordOutcome.rejected,
                record_id=None,
                errors=errors,
            )
        valid = [v for position, v in enumerate(valid) if position not in refused]
    if valid:
        for written in await write_valid(ctx.conn, ctx.tenancy, valid, today=today):
            results[written.index] = written
        scorecards.figures_changed(ctx)

    final = [r for r in results if r is not None]
    counts = Counter(r.outcome.value for r in final)
    count(RECORDS, counts.elements())
    summary = BatchSummary(**{o.value: counts.get(o.value, 0) for o in RecordOutcome})
    result = BatchResult(results=final, summary=summary)
    ctx.audit.details = summary.model_dump()
    ctx.audit.resource = "records"
    await idempotency.complete(ctx.tx, claim, 200, result.model_dump(mode="json"))
    return result


async def write_valid(
    conn: asyncpg.Connection, tenancy: Tenancy, valid: Sequence[ValidItem], *, today: date | None = None
) -> list[ItemResult]:
    """The one write path of records: apply valid items, at most one per account_ref, and
    give each its result (see apply_valid)."""
    return [
        ItemResult(index=v.index, account_ref=v.item.account_ref, outcome=outcome, record_id=record_id)
        for v, outcome, record_id in await apply_valid(conn, tenancy, valid, today=today)
    ]


async def apply_valid(
    conn: asyncpg.Connection, tenancy: Tenancy, valid: Sequence[ValidItem], *, today: date | None = None
) -> list[tuple[ValidItem, RecordOutcome, uuid.UUID]]:
    """The write path of records item by item (POST /v1/records): apply valid items as the
    tenancy's member's, at most one per account_ref, and give each its outcome and record id."""
    owner = tenancy.member
    applied = {row.account_ref: row for row in await repository.upsert(conn, owner, valid)}
    await _alert_watchers(
        conn, tenancy, [row.id for row in applied.values() if row.severity >= DELINQUENT_SEVERITY], today
    )
    pledged = [applied[v.item.account_ref].id for v in valid if v.item.collateral and v.item.account_ref in applied]
    await collateral.raise_collateral_alerts(conn, tenancy, pledged, today)
    untouched = [v.item.account_ref for v in valid if v.item.account_ref not in applied]
    stored = {}
    if untouched:
        stored = {row.account_ref: row for row in await repository.current_versions(conn, owner, untouched)}
    results = []
    for v in valid:
        ref = v.item.account_ref
        if ref in applied:
            outcome = RecordOutcome.created if applied[ref].inserted else RecordOutcome.updated
            record_id = applied[ref].id
        else:
            outcome = RecordOutcome.stale if stored[ref].as_of > v.item.as_of else RecordOutcome.unchanged
            record_id = stored[ref].id
        results.append((v, outcome, record_id))
    return results


async def apply_counted(
    conn: asyncpg.Connection,
    tenancy: Tenancy,
    total: int,
    upsert_counted: Callable[[], Awaitable[Counted]],
    *,
    today: date | None = None,
) -> Counter[str]:
    """The write path of records in bulk (uploads): `upsert_counted` runs the same upsert
    over `total` valid rows already in the database, at most one per account_ref, answering
    repository.COUNTED; returns how many rows had each outcome. Nothing per row comes back
    to the service."""
    counted = await upsert_counted()
    await _alert_watchers(conn, tenancy, counted.delinquent, today)
    await collateral.raise_collateral_alerts(conn, tenancy, counted.pledged, today)
    outcomes = Counter(
        {
            RecordOutcome.created.value: counted.created,
            RecordOutcome.updated.value: counted.updated,
            RecordOutcome.stale.value: counted.stale,
        }
    )
    outcomes[RecordOutcome.unchanged.value] = total - sum(outcomes.values())
    return +outcomes  # without the zeros


async def _alert_watchers(
    conn: asyncpg.Connection, tenancy: Tenancy, delinquent: list[uuid.UUID], today: date | None
) -> None:
    """Other members watching a subject that became delinquent or worse are alerted in the
    same transaction."""
    if delinquent:
        async with tenancy.across_members(conn):  # other members' watches and alerts
            await monitoring.raise_delinquency_alerts(conn, tenancy.member, delinquent, today)


def days_past_due(row: RecordRow) -> int | None:
    """Days a delinquent account has been past due on its as_of; None when not delinquent."""
    if row.delinquent_since is None or not is_delinquent(row.status):
        return None
    return (row.as_of - row.delinquent_since).days


def record_fields(row: RecordRow, links: parties.LinkRow | None = None) -> dict[str, Any]:
    """A record row as the API shows it: amounts in major units of its currency, with its
    parties and collateral when `links` are given."""
    data = rows.as_dict(row)
    if links is not None:
        data["parties"] = links.parties
        data["collateral"] = {"kind": links.collateral} if links.collateral else None
    currency = row.currency
    for name in ("principal", "outstanding", "overdue", "recovered"):
        data[f"{name}_amount"] = format_minor(data.pop(f"{name}_minor"), currency)
    data["days_past_due"] = days_past_due(row)
    return data


def token_filter(subjects: SubjectKeyer, subject: str | None) -> bytes | None:
    if subject is None:
        return None
    if not is_token(subject):
        raise Invalid(
            "subject must be a 64-hex-character token", errors=[FieldError(field="subject", message="not a token")]
        )
    return subjects.key(subject)


def list_filters(
    ctx: MemberContext,
    *,
    subject: str | None = None,
    status: str | None = None,
    product: str | None = None,
    branch_code: str | None = None,
    uncollected: bool | None = None,
    min_days: int | None = None,
) -> ListFilters:
    """The filters of a listing as the repository takes them (the token made a subject key)."""
    return ListFilters(
        subject_key=token_filter(ctx.subjects, subject),
        status=status,
        product=product,
        branch_code=branch_code,
        uncollected=uncollected,
        min_days=min_days,
    )


async def list_records(ctx: MemberContext, filters: ListFilters, *, cursor: str | None, limit: int) -> Page[RecordOut]:
    """Own live records by `filters`, a page at a time. With `uncollected=true` this is the
    worklist: the uncollected accounts, most days past due first."""
    if filters.uncollected:
        position = decode_cursor(cursor, 2)
        after = _worklist_position(position) if position else None
        found = await repository.worklist(ctx.conn, ctx.tenant, filters, after=after, limit=limit + 1, today=ctx.today)
        next_cursor = _worklist_cursor
    else:
        found = await repository.list_own(
            ctx.conn, ctx.tenant, filters, after=decode_created_cursor(cursor), limit=limit + 1, today=ctx.today
        )
        next_cursor = created_cursor
    links = await parties.links_of(ctx.conn, ctx.tenant.member_id, [r.id for r in found[:limit]])
    return Page[RecordOut].from_rows(found, limit, _record_out(links), next_cursor)


async def export_records(ctx: MemberContext, filters: ListFilters) -> list[dict[str, Any]]:
    """Every own live record by `filters`, in the listing's order, as CSV_COLUMNS rows (the
    worklist of a branch's collection team with `uncollected=true`)."""
    ctx.audit.details["format"] = "csv"
    if filters.uncollected:
        found = await repository.worklist(ctx.conn, ctx.tenant, filters, after=None, limit=None, today=ctx.today)
    else:
        found = await repository.list_own(ctx.conn, ctx.tenant, filters, after=None, limit=None, today=ctx.today)
    ctx.audit.details["rows"] = len(found)
    return [record_fields(row) for row in found]


# The columns of a listing as CSV: what a collection team works from (no borrower token: the
# registry never stores it; `account_ref` leads back to the member's own systems).
CSV_COLUMNS = (
    "account_ref",
    "branch_code",
    "days_past_due",
    "status",
    "product",
    "delinquent_since",
    "last_collection_action_on",
    "collection_stage",
    "arrangement",
    "currency",
    "overdue_amount",
    "outstanding_amount",
    "recovered_amount",
    "as_of",
    "uncollected",
    "id",
)


def _record_out(links: dict[uuid.UUID, parties.LinkRow]) -> Callable[[RecordRow], RecordOut]:
    def out(row: RecordRow) -> RecordOut:
        return RecordOut.model_validate(record_fields(row, links.get(row.id)))

    return out


def _worklist_position(position: list[Any]) -> tuple[int, uuid.UUID]:
    try:
        return int(position[0]), uuid.UUID(str(position[1]))
    except ValueError:
        raise Invalid(
            "The cursor is not valid", errors=[FieldError(field="cursor", message="malformed cursor")]
        ) from None


def _worklist_cursor(row: RecordRow) -> str:
    return encode_cursor([days_past_due(row), str(row.id)])


async def get_record(ctx: MemberContext, record_id: uuid.UUID) -> RecordDetail:
    ctx.audit.resource = f"record:{record_id}"
    row = await repository.get_own(ctx.conn, ctx.tenant, record_id)
    if row is None:
        raise NotFound("No record with that id")
    events = [
        RecordEventOut.model_validate(e, from_attributes=True)
        for e in await repository.events_of(ctx.conn, ctx.tenant, record_id)
    ]
    links = await parties.links_of(ctx.conn, ctx.tenant.member_id, [record_id])
    return RecordDetail.model_validate({**record_fields(row, links.get(record_id)), "events": events})


async def withdraw(ctx: MemberContext, record_id: uuid.UUID) -> RecordOut:
    ctx.audit.resource = f"record:{record_id}"
    row = await repository.withdraw(ctx.conn, ctx.tenant, record_id)
    if row is None:
        row = await repository.get_own(ctx.conn, ctx.tenant, record_id)
        if row is None:
            raise NotFound("No record with that id")
        ctx.audit.details = {"already_withdrawn": True}
    else:
        await monitoring.end_watches_after_withdrawal(ctx.conn, ctx.tenant, [record_id])
        scorecards.figures_changed(ctx)
    return RecordOut.model_validate(record_fields(row))
