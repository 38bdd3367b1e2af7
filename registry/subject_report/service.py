"""Rules of the subject report: every live record about the token (suppressed ones too, since
they are still held) and every inquiry of the last 24 months, with institution names."""

from __future__ import annotations

from registry.context import AssociationContext
from registry.core import rows
from registry.records.service import record_fields
from registry.retention.policy import inquiries_cutoff
from registry.subject_report import repository
from registry.subject_report.repository import ReportedInquiryRow, ReportedRecordRow
from registry.subject_report.schemas import ReportedInquiry, ReportedRecord, SubjectReport


def _record(row: ReportedRecordRow) -> ReportedRecord:
    data = record_fields(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedRecord.model_validate(data)


def _inquiry(row: ReportedInquiryRow) -> ReportedInquiry:
    data = rows.as_dict(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedInquiry.model_validate(data)


async def report(ctx: AssociationContext, token: str) -> SubjectReport:
    key = ctx.subjects.key(token)
    since = inquiries_cutoff(ctx.now)
    records = [_record(r) for r in await repository.records(ctx.conn, ctx.tenant, key, ctx.today)]
    inquiries = [_inquiry(i) for i in await repository.inquiries(ctx.conn, ctx.tenant, key, since)]
    ctx.audit.resource = "subject"
    ctx.audit.details = {"records": len(records), "inquiries": len(inquiries)}
    return SubjectReport(
        subject=token.lower(), generated_at=ctx.now, inquiries_since=since, records=records, inquiries=inquiries
    )
