"""Rules of the subject report: every live record about the token (suppressed ones too, since
they are still held) and every inquiry of the last 24 months, with institution names."""

from __future__ import annotations

from registry.context import AssociationContext
from registry.core import rows
from registry.records.service import record_fields
from registry.records.validation import format_minor
from registry.retention.policy import inquiries_cutoff
from registry.subject_report import repository
from registry.subject_report.repository import PartyRecordRow, ReportedInquiryRow, ReportedRecordRow
from registry.subject_report.schemas import ReportedInquiry, ReportedPartyRecord, ReportedRecord, SubjectReport


def _record(row: ReportedRecordRow) -> ReportedRecord:
    data = record_fields(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedRecord.model_validate(data)


def _party_record(row: PartyRecordRow) -> ReportedPartyRecord:
    data = rows.as_dict(row)
    data["record_id"] = data.pop("id")
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    for name in ("outstanding", "overdue"):
        data[f"{name}_amount"] = format_minor(data.pop(f"{name}_minor"), row.currency)
    return ReportedPartyRecord.model_validate(data)


def _inquiry(row: ReportedInquiryRow) -> ReportedInquiry:
    data = rows.as_dict(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedInquiry.model_validate(data)


async def report(ctx: AssociationContext, token: str) -> SubjectReport:
    key = ctx.subjects.key(token)
    since = inquiries_cutoff(ctx.now)
    records = [_record(r) for r in await repository.records(ctx.conn, ctx.tenant, key, ctx.today)]
    party_records = [_party_record(r) for r in await repository.party_records(ctx.conn, ctx.tenant, key, ctx.today)]
    inquiries = [_inquiry(i) for i in await repository.inquiries(ctx.conn, ctx.tenant, key, since)]
    ctx.audit.resource = "subject"
    ctx.audit.details = {"records": len(records), "party_records": len(party_records), "inquiries": len(inquiries)}
    return SubjectReport(
        subject=token.lower(),
        generated_at=ctx.now,
        inquiries_since=since,
        records=records,
        party_records=party_records,
        inquiries=inquiries,
    )
