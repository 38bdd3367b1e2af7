"""Rules of disputes. Filing flags every covered record at once and starts a 20-day clock;
each owner answers for its own records; the association resolves: `upheld` applies the
owner's correction or suppresses the record for good, `rejected` clears the flag (the
borrower's statement stays with the record), `unverifiable` keeps the record and its flag.
Past the deadline an unresolved dispute suppresses its records from exposure answers (the
exposure statement compares `records.dispute_deadline` with its clock; no writer needed)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from registry.audit.schemas import AuditIntent
from registry.auth.principal import Principal
from registry.core.db import Tx, as_association
from registry.core.errors import Conflict, FieldError, Invalid, NotFound
from registry.core.pagination import Page, decode_created_cursor, encode_cursor
from registry.core.subjects import subject_key
from registry.disputes import repository
from registry.disputes.schemas import (
    CoveredRecord,
    DisputeCreate,
    DisputeEventOut,
    DisputeOut,
    DisputeResolve,
    DisputeResponse,
    DisputeSummary,
    Institution,
    Outcome,
    Resolution,
    ResponseAction,
)
from registry.records import repository as records_repository
from registry.records.validation import ValidItem, content_hash, validate_item

ANSWER_WITHIN = timedelta(days=20)
# Corrections are stored without the borrower's token; they are re-validated under this
# stand-in and then bound to the disputed record's subject key.
_STAND_IN_TOKEN = "0" * 64


def _summary(row: Any, viewer: uuid.UUID) -> dict[str, Any]:
    return {**dict(row), "filed_by_you": row["filed_by"] == viewer}


async def file(
    tx: Tx,
    principal: Principal,
    body: DisputeCreate,
    *,
    server_key: bytes,
    now: datetime,
    as_admin: bool,
    audit: AuditIntent,
) -> DisputeOut:
    key = subject_key(server_key, body.subject)
    today = now.date()
    if body.record_id is not None:
        record = await repository.held_record(tx.conn, body.record_id, today, None if as_admin else principal.member_id)
        if record is None:
            raise NotFound("No record with that id" if as_admin else "No record of yours with that id")
        if record["subject_key"] != key:
            raise Invalid("The record is about another borrower",
                          errors=[FieldError(field="subject", message="does not match the record's subject")])
        records = [record]
    # A borrower's dispute covers every lender's negative records about them, whoever files
    # it: the one step of a member's transaction that reads and flags other members' rows.
    async with as_association(tx.conn):
        if body.record_id is None:
            records = await repository.negative_records(tx.conn, key, today)
            if not records:
                raise Invalid(
                    "No live negative record about this subject to dispute; name a record_id to dispute another record",
                    errors=[FieldError(field="subject", message="no live negative record")],
                )
        dispute_id = await repository.create(
            tx.conn, subject_key=key, filed_by=principal.member_id, reason=body.reason.value, statement=body.statement,
            received_at=now, deadline=now + ANSWER_WITHIN, records=records,
        )
        await repository.refresh_record_flags(tx.conn, [r["id"] for r in records], [])
    audit.resource = f"dispute:{dispute_id}"
    audit.details = {"reason": body.reason.value, "records": len(records), "named_record": body.record_id is not None}
    return await view(tx, principal, dispute_id, now=now, as_admin=as_admin)


async def view(tx: Tx, principal: Principal, dispute_id: uuid.UUID, *, now: datetime, as_admin: bool,
               audit: AuditIntent | None = None) -> DisputeOut:
    if audit is not None:
        audit.resource = f"dispute:{dispute_id}"
    member = None if as_admin else principal.member_id
    row = await repository.get(tx.conn, dispute_id, now, member)
    if row is None:
        raise NotFound("No dispute with that id")
    covered = [
        CoveredRecord.model_validate({**dict(c), "institution": {"code": c["code"], "name": c["name"]} if as_admin else None})
        for c in await repository.covered(tx.conn, dispute_id, member)
    ]
    history = [
        DisputeEventOut.model_validate(
            {**dict(e), "institution": {"code": e["code"], "name": e["name"]} if as_admin and e["code"] else None}
        )
        for e in await repository.history(tx.conn, dispute_id, member)
    ]
    filer = Institution(code=row["filer_code"], name=row["filer_name"]) if as_admin else None
    return DisputeOut.model_validate(
        {**_summary(row, principal.member_id), "filed_by": filer, "covered": covered, "history": history}
    )


async def list_disputes(
    tx: Tx,
    principal: Principal,
    *,
    as_admin: bool,
    status: str | None,
    overdue: bool | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> Page[DisputeSummary]:
    rows = await repository.list_disputes(
        tx.conn, member_id=None if as_admin else principal.member_id, status=status, overdue=overdue, now=now,
        after=decode_created_cursor(cursor), limit=limit + 1,
    )
    data = [DisputeSummary.model_validate(_summary(r, principal.member_id)) for r in rows[:limit]]
    next_cursor = encode_cursor([data[-1].received_at.isoformat(), str(data[-1].id)]) if len(rows) > limit else None
    return Page[DisputeSummary](data=data, next_cursor=next_cursor)


async def _open_dispute(tx: Tx, dispute_id: uuid.UUID, now: datetime, member: uuid.UUID | None) -> Any:
    row = await repository.get(tx.conn, dispute_id, now, member, lock=True)
    if row is None:
        raise NotFound("No dispute with that id")
    if row["status"] != "open":
        raise Conflict(f"The dispute is already resolved ({row['resolution']})")
    return row


def _validated_correction(raw: dict[str, Any], covered: Any, server_key: bytes, now: datetime) -> dict[str, Any]:
    checked = validate_item(0, raw, server_key, now.date())
    if isinstance(checked, list):
        raise Invalid("The correction is not a valid record",
                      errors=[FieldError(field=f"correction.{e.field}", message=e.message) for e in checked])
    problems = []
    if checked.subject_key != covered["subject_key"]:
        problems.append(FieldError(field="correction.subject", message="must be the disputed borrower's token"))
    if checked.item.account_ref != covered["account_ref"]:
        problems.append(FieldError(field="correction.account_ref", message=f"must be {covered['account_ref']}"))
    if checked.item.as_of < covered["as_of"]:
        problems.append(FieldError(field="correction.as_of", message=f"must not be before the stored as_of {covered['as_of']}"))
    if problems:
        raise Invalid("The correction does not fit the disputed record", errors=problems)
    return checked.snapshot


async def respond(
    tx: Tx, principal: Principal, dispute_id: uuid.UUID, body: DisputeResponse, *,
    server_key: bytes, now: datetime, audit: AuditIntent,
) -> DisputeOut:
    audit.resource = f"dispute:{dispute_id}"
    audit.details = {"record_id": str(body.record_id), "action": body.action.value}
    await _open_dispute(tx, dispute_id, now, principal.member_id)
    mine = {c["record_id"]: c for c in await repository.covered(tx.conn, dispute_id, principal.member_id)}
    covered = mine.get(body.record_id)
    if covered is None or covered["account_ref"] is None:
        raise Invalid("That record is not one of yours covered by this dispute",
                      errors=[FieldError(field="record_id", message="not covered by this dispute")])
    correction = None
    if body.action is ResponseAction.correct and body.correction is not None:
        correction = _validated_correction(body.correction, covered, server_key, now)
    await repository.record_response(
        tx.conn, dispute_id=dispute_id, record_id=body.record_id, member_id=principal.member_id,
        action=body.action.value, note=body.note, correction=correction, at=now,
    )
    return await view(tx, principal, dispute_id, now=now, as_admin=False)


def _bound_correction(snapshot: dict[str, Any], key: bytes, server_key: bytes, now: datetime) -> ValidItem:
    checked = validate_item(0, {**snapshot, "subject": _STAND_IN_TOKEN}, server_key, now.date())
    if isinstance(checked, list):  # stored only after validation; cannot fail unless the rules changed
        raise Conflict("A stored correction no longer validates; ask the owner to answer again")
    return dataclasses.replace(checked, subject_key=key, content_hash=content_hash(key, checked.snapshot))


async def _apply_correction(tx: Tx, covered: Any, server_key: bytes, now: datetime) -> Outcome:
    item = _bound_correction(covered["correction"], covered["subject_key"], server_key, now)
    applied = await records_repository.upsert(tx.conn, covered["member_id"], [item])
    if applied:
        return Outcome.corrected
    stored = await records_repository.current_versions(tx.conn, covered["member_id"], [item.item.account_ref])
    # The owner reported a newer state after proposing the correction: that report stands.
    return Outcome.superseded if stored and stored[0]["as_of"] > item.item.as_of else Outcome.corrected


async def resolve(
    tx: Tx, principal: Principal, dispute_id: uuid.UUID, body: DisputeResolve, *,
    server_key: bytes, now: datetime, audit: AuditIntent,
) -> DisputeOut:
    audit.resource = f"dispute:{dispute_id}"
    await _open_dispute(tx, dispute_id, now, None)
    outcomes: dict[uuid.UUID, str] = {}
    for covered in await repository.covered(tx.conn, dispute_id, None):
        if body.resolution is not Resolution.upheld:
            outcome = Outcome.kept
        elif covered["response"] == ResponseAction.correct and covered["correction"] is not None:
            outcome = await _apply_correction(tx, covered, server_key, now)
        else:
            outcome = Outcome.suppressed
        outcomes[covered["record_id"]] = outcome.value
    await repository.resolve(
        tx.conn, dispute_id=dispute_id, resolution=body.resolution.value, note=body.note, at=now,
        actor=principal.member_id, outcomes=outcomes,
    )
    suppress = [rid for rid, outcome in outcomes.items() if outcome == Outcome.suppressed]
    await repository.refresh_record_flags(tx.conn, list(outcomes), suppress)
    audit.details = {"resolution": body.resolution.value, "records": len(outcomes), "suppressed": len(suppress)}
    return await view(tx, principal, dispute_id, now=now, as_admin=True)
