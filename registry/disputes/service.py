"""Rules of disputes. Filing flags every covered record at once and starts a 20-day clock;
each owner answers for its own records; the association resolves: `upheld` applies the
owner's correction or suppresses the record for good, `rejected` clears the flag (the
borrower's statement stays with the record), `unverifiable` keeps the record and its flag.
Past the deadline an unresolved dispute suppresses its records from exposure answers (the
exposure statement compares `records.dispute_deadline` with its clock; no writer needed).

A member files for a borrower only where it may act for them: it holds a live record about
the borrower, or it has the borrower's consent (`consent_ref`, audited). Its answer never
tells whether other lenders hold records: it is the same `202` with the dispute's id either
way, and what a member later sees of a dispute is its own records only. The association
files for borrowers who come to it directly, and sees everything."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from registry.context import AssociationContext, MemberContext, RequestContext
from registry.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from registry.core.pagination import Page, decode_created_cursor, encode_cursor
from registry.core.subjects import is_token
from registry.core.tenancy import Association, Member
from registry.disputes import notifications, repository
from registry.disputes.repository import CoverableRecord, CoveredRow, DisputeRow, DisputeView, EventRow
from registry.disputes.schemas import (
    CoveredRecord,
    DisputeCreate,
    DisputeEventOut,
    DisputeFiled,
    DisputeOut,
    DisputeOutcome,
    DisputeResolve,
    DisputeResponse,
    DisputeSummary,
    Institution,
    Resolution,
    ResponseAction,
)
from registry.records import parties, subject_types
from registry.records import repository as records_repository
from registry.records.schemas import ItemError
from registry.records.validation import ValidItem, content_hash, validate_item

ANSWER_WITHIN = timedelta(days=20)
# Corrections are stored without the borrower's token; they are re-validated under this
# stand-in and then bound to the disputed record's subject key.
_STAND_IN_TOKEN = "0" * 64
# What a member may read of the `filed` and `resolved` events: no counts of other lenders' records.
_MEMBER_EVENT_DETAILS = {"filed": ("reason",), "resolved": ("resolution", "note")}

AnyContext = RequestContext[Any]


def _is_admin(ctx: AnyContext) -> bool:
    return isinstance(ctx.tenant, Association)


def _summary(row: DisputeRow, viewer: uuid.UUID) -> dict[str, Any]:
    fields = {f.name: getattr(row, f.name) for f in dataclasses.fields(DisputeRow)}
    return {**fields, "filed_by_you": row.filed_by == viewer}


async def _covered_by_filing(ctx: AnyContext, body: DisputeCreate, key: bytes) -> list[CoverableRecord] | None:
    """The record a filing names (checked as the filer may see it), or None for every live
    negative record about the subject; refuses a member that may not act for the borrower."""
    tenant = ctx.tenant
    if body.record_id is not None:
        record = await repository.held_record(ctx.conn, tenant, body.record_id, ctx.today)
        if record is None:
            raise NotFound(
                "No record of yours with that id" if isinstance(tenant, Member) else "No record with that id"
            )
        # A guarantor or co-borrower disputes its own link to the account (registry/records/parties.py).
        if record.subject_key != key and not await parties.is_party(ctx.conn, record.id, key):
            raise Invalid(
                "The record is about another borrower",
                errors=[FieldError(field="subject", message="does not match the record's subject")],
            )
        return [record]
    if (
        isinstance(tenant, Member)
        and body.consent_ref is None
        and not await repository.holds_live_record(ctx.conn, tenant, key, ctx.today)
    ):
        raise Forbidden(
            "You may file a dispute only for a borrower you hold a live record on, or with the borrower's consent: "
            "give `consent_ref`",
            errors=[FieldError(field="consent_ref", message="required: no live record of yours about this subject")],
        )
    return None


def _wake_deliveries(ctx: AnyContext) -> None:
    """The webhook worker looks at the outbox as soon as the transaction commits."""
    if ctx.runtime.deliveries is not None:
        ctx.tx.after_commit.append(ctx.runtime.deliveries.wake)


async def file(ctx: AnyContext, body: DisputeCreate) -> uuid.UUID:
    key = ctx.subjects.key(body.subject)
    records = await _covered_by_filing(ctx, body, key)
    # A borrower's dispute covers every lender's negative records about them, whoever files
    # it: the one step of a member's transaction that reads and flags other members' rows.
    async with ctx.tenancy.across_members(ctx.conn):
        if records is None:
            records = await repository.negative_records(ctx.conn, key, ctx.today)
            if not records and _is_admin(ctx):
                raise Invalid(
                    "No live negative record about this subject to dispute; name a record_id to dispute another record",
                    errors=[FieldError(field="subject", message="no live negative record")],
                )
        dispute_id = await repository.create(
            ctx.conn,
            ctx.tenant,
            subject_key=key,
            reason=body.reason.value,
            statement=body.statement,
            received_at=ctx.now,
            deadline=ctx.now + ANSWER_WITHIN,
            records=records,
        )
        await repository.refresh_record_flags(ctx.conn, [r.id for r in records], [])
        if await notifications.dispute_opened(
            ctx.conn,
            dispute_id,
            reason=body.reason.value,
            deadline=ctx.now + ANSWER_WITHIN,
            records=records,
            at=ctx.now,
        ):
            _wake_deliveries(ctx)
    ctx.audit.resource = f"dispute:{dispute_id}"
    ctx.audit.details = {
        "reason": body.reason.value,
        "named_record": body.record_id is not None,
        "consent_ref": body.consent_ref,
    }
    if _is_admin(ctx):
        ctx.audit.details["records"] = len(records)  # members' rows would tell what other lenders hold
    return dispute_id


async def file_as_member(ctx: MemberContext, body: DisputeCreate) -> DisputeFiled:
    """The same answer whether or not any lender holds a negative record about the subject."""
    dispute_id = await file(ctx, body)
    return DisputeFiled(id=dispute_id, status="open", received_at=ctx.now, deadline=ctx.now + ANSWER_WITHIN)


async def file_as_association(ctx: AssociationContext, body: DisputeCreate) -> DisputeOut:
    return await view(ctx, await file(ctx, body))


def _institution(code: str | None, name: str | None, admin: bool) -> Institution | None:
    return Institution(code=code, name=name) if admin and code and name else None


def _event(row: EventRow, admin: bool) -> DisputeEventOut:
    details = row.details
    if not admin and row.kind in _MEMBER_EVENT_DETAILS:
        details = {k: v for k, v in details.items() if k in _MEMBER_EVENT_DETAILS[row.kind]}
    return DisputeEventOut(
        at=row.at,
        kind=row.kind,
        record_id=row.record_id,
        details=details,
        institution=_institution(row.code, row.name, admin),
    )


def _covered(row: CoveredRow, admin: bool) -> CoveredRecord:
    return CoveredRecord(
        record_id=row.record_id,
        account_ref=row.account_ref,
        institution=_institution(row.code, row.name, admin),
        response=row.response,
        note=row.note,
        correction=row.correction,
        responded_at=row.responded_at,
        outcome=row.outcome,
    )


async def view(ctx: AnyContext, dispute_id: uuid.UUID) -> DisputeOut:
    ctx.audit.resource = f"dispute:{dispute_id}"
    admin = _is_admin(ctx)
    row = await repository.get(ctx.conn, ctx.tenant, dispute_id, ctx.now)
    if row is None:
        raise NotFound("No dispute with that id")
    covered = [_covered(c, admin) for c in await repository.covered(ctx.conn, ctx.tenant, dispute_id)]
    history = [_event(e, admin) for e in await repository.history(ctx.conn, ctx.tenant, dispute_id)]
    return DisputeOut.model_validate(
        {
            **_summary(row, ctx.tenant.member_id),
            "filed_by": _institution(row.filer_code, row.filer_name, admin),
            "covered": covered,
            "history": history,
        }
    )


async def list_disputes(
    ctx: AnyContext, *, status: str | None, overdue: bool | None, cursor: str | None, limit: int
) -> Page[DisputeSummary]:
    found = await repository.list_disputes(
        ctx.conn,
        ctx.tenant,
        status=status,
        overdue=overdue,
        now=ctx.now,
        after=decode_created_cursor(cursor),
        limit=limit + 1,
    )
    viewer = ctx.tenant.member_id
    return Page[DisputeSummary].from_rows(
        found,
        limit,
        lambda r: DisputeSummary.model_validate(_summary(r, viewer)),
        lambda r: encode_cursor([r.received_at.isoformat(), str(r.id)]),
    )


async def _open_dispute(ctx: AnyContext, dispute_id: uuid.UUID) -> DisputeView:
    row = await repository.get(ctx.conn, ctx.tenant, dispute_id, ctx.now, lock=True)
    if row is None:
        raise NotFound("No dispute with that id")
    if row.status != "open":
        raise Conflict(f"The dispute is already resolved ({row.resolution})")
    return row


def _correction_problem(message: str, field: str, detail: str) -> Invalid:
    return Invalid(message, errors=[FieldError(field=f"correction.{field}", message=detail)])


def _validated_correction(
    ctx: AnyContext, changes: dict[str, Any], covered: CoveredRow, stored: dict[str, Any]
) -> ValidItem:
    """The record as it should read: the stored record with the owner's changed fields, checked
    by the same rules as any report. Only the fields that change need be given; `subject` and
    `account_ref`, when given, must be the disputed record's own."""
    if not changes:
        raise _correction_problem("The correction changes nothing", "item", "name at least one field to change")
    subject = changes.get("subject")
    if subject is not None and (
        not isinstance(subject, str)
        or not is_token(subject)
        or ctx.subjects.key(subject.lower()) != covered.subject_key
    ):
        raise _correction_problem(
            "The correction does not fit the disputed record", "subject", "must be the disputed borrower's token"
        )
    # A correction that does not restate the account's parties or collateral keeps them.
    kept = {name: stored[name] for name in parties.LINK_FIELDS if name in stored and name not in changes}
    checked = _validated_keeping_links({**_without_links(stored), **changes}, kept, ctx)
    if isinstance(checked, list):
        raise Invalid(
            "The corrected record is not valid",
            errors=[FieldError(field=f"correction.{e.field}", message=e.message) for e in checked],
        )
    problems = []
    if checked.item.account_ref != covered.account_ref:
        problems.append(FieldError(field="correction.account_ref", message=f"must be {covered.account_ref}"))
    if covered.as_of is not None and checked.item.as_of < covered.as_of:
        problems.append(
            FieldError(field="correction.as_of", message=f"must not be before the stored as_of {covered.as_of}")
        )
    if problems:
        raise Invalid("The correction does not fit the disputed record", errors=problems)
    if checked.snapshot == stored:
        raise _correction_problem(
            "The correction changes nothing", "item", "every field given already reads so in the record"
        )
    return checked


async def _refuse_type_contradiction(ctx: MemberContext, covered: CoveredRow, checked: ValidItem) -> None:
    """A correction may not make its borrower or a party the other kind of subject than the
    registry holds for that token."""
    assert covered.subject_key is not None
    own = dataclasses.replace(checked, subject_key=covered.subject_key)  # checked bears a stand-in token
    claims = subject_types.claims_of(own, ctx.runtime.keys.server_key, prefix="correction.")
    refused = await subject_types.contradictions(ctx.conn, ctx.tenancy, [claims], ctx.today)
    if refused:
        raise Invalid(
            "The correction contradicts the kind of subject held",
            errors=[FieldError(**error.model_dump()) for error in refused[0]],
        )


async def respond(ctx: MemberContext, dispute_id: uuid.UUID, body: DisputeResponse) -> DisputeOut:
    ctx.audit.resource = f"dispute:{dispute_id}"
    ctx.audit.details = {"record_id": str(body.record_id), "action": body.action.value}
    await _open_dispute(ctx, dispute_id)
    mine = {c.record_id: c for c in await repository.covered(ctx.conn, ctx.tenant, dispute_id)}
    covered = mine.get(body.record_id)
    if covered is None or covered.account_ref is None:
        raise Invalid(
            "That record is not one of yours covered by this dispute",
            errors=[FieldError(field="record_id", message="not covered by this dispute")],
        )
    correction = None
    if body.action is ResponseAction.correct and body.correction is not None:
        stored = await repository.stored_snapshot(ctx.conn, ctx.tenant, body.record_id)
        if stored is None:
            raise NotFound("No record of yours with that id")
        checked = _validated_correction(ctx, body.correction, covered, stored)
        await _refuse_type_contradiction(ctx, covered, checked)
        correction = checked.snapshot
    await repository.record_response(
        ctx.conn,
        ctx.tenant,
        dispute_id=dispute_id,
        record_id=body.record_id,
        action=body.action.value,
        note=body.note,
        correction=correction,
        at=ctx.now,
    )
    return await view(ctx, dispute_id)


def _without_links(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in snapshot.items() if name not in parties.LINK_FIELDS}


def _validated_keeping_links(
    fields: dict[str, Any], links: dict[str, Any], ctx: AnyContext
) -> ValidItem | list[ItemError]:
    """`fields` checked by the rules of any report (under a stand-in token), with `links`, the
    parties and collateral a stored snapshot holds by key (registry/records/parties.py), put
    back as they were: a key is not a token, and the rules read tokens."""
    checked = validate_item(0, {**fields, "subject": _STAND_IN_TOKEN}, ctx.runtime.keys.server_key, ctx.today)
    if isinstance(checked, list) or not links:
        return checked
    snapshot = {**checked.snapshot, **links}
    return dataclasses.replace(checked, snapshot=snapshot, content_hash=content_hash(checked.subject_key, snapshot))


def _bound_correction(ctx: AnyContext, snapshot: dict[str, Any], key: bytes) -> ValidItem:
    links = {name: snapshot[name] for name in parties.LINK_FIELDS if name in snapshot}
    checked = _validated_keeping_links(_without_links(snapshot), links, ctx)
    if isinstance(checked, list):  # stored only after validation; cannot fail unless the rules changed
        raise Conflict("A stored correction no longer validates; ask the owner to answer again")
    return dataclasses.replace(checked, subject_key=key, content_hash=content_hash(key, checked.snapshot))


async def _apply_correction(ctx: AssociationContext, covered: CoveredRow) -> DisputeOutcome:
    assert covered.correction is not None and covered.subject_key is not None
    item = _bound_correction(ctx, covered.correction, covered.subject_key)
    owner = ctx.tenant.acting_for(covered.member_id)
    if await records_repository.upsert(ctx.conn, owner, [item]):
        return DisputeOutcome.corrected
    stored = await records_repository.current_versions(ctx.conn, owner, [item.item.account_ref])
    # The owner reported a newer state after proposing the correction: that report stands.
    return DisputeOutcome.superseded if stored and stored[0].as_of > item.item.as_of else DisputeOutcome.corrected


async def resolve(ctx: AssociationContext, dispute_id: uuid.UUID, body: DisputeResolve) -> DisputeOut:
    ctx.audit.resource = f"dispute:{dispute_id}"
    dispute = await _open_dispute(ctx, dispute_id)
    outcomes: dict[uuid.UUID, str] = {}
    all_covered = await repository.covered(ctx.conn, ctx.tenant, dispute_id)
    for covered in all_covered:
        if body.resolution is not Resolution.upheld:
            outcome = DisputeOutcome.kept
        elif covered.subject_key != dispute.subject_key:  # a party's dispute: its link goes, the record stays
            outcome = DisputeOutcome.unlinked
        elif covered.response == ResponseAction.correct and covered.correction is not None:
            outcome = await _apply_correction(ctx, covered)
        else:
            outcome = DisputeOutcome.suppressed
        outcomes[covered.record_id] = outcome.value
    await repository.resolve(
        ctx.conn,
        ctx.tenant,
        dispute_id=dispute_id,
        resolution=body.resolution.value,
        note=body.note,
        at=ctx.now,
        outcomes=outcomes,
    )
    suppress = [rid for rid, outcome in outcomes.items() if outcome == DisputeOutcome.suppressed]
    unlinked = [(rid, dispute.subject_key) for rid, outcome in outcomes.items() if outcome == DisputeOutcome.unlinked]
    await parties.remove_links(ctx.conn, unlinked, ctx.now)
    await repository.refresh_record_flags(ctx.conn, list(outcomes), suppress)
    if await notifications.dispute_resolved(
        ctx.conn,
        dispute_id,
        reason=dispute.reason,
        deadline=dispute.deadline,
        resolution=body.resolution.value,
        covered=all_covered,
        outcomes=outcomes,
        at=ctx.now,
    ):
        _wake_deliveries(ctx)
    ctx.audit.details = {"resolution": body.resolution.value, "records": len(outcomes), "suppressed": len(suppress)}
    return await view(ctx, dispute_id)
