"""Rules of the subject report: every live record about the token (suppressed ones too, since
they are still held) and every inquiry of the last 24 months, with institution names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from registry.audit.schemas import AuditIntent
from registry.core.db import Tx
from registry.core.subjects import subject_key
from registry.records.service import _record_out as record_fields
from registry.retention.policy import inquiries_cutoff
from registry.subject_report import repository
from registry.subject_report.schemas import ReportedInquiry, ReportedRecord, SubjectReport


def _record(row: Any) -> ReportedRecord:
    data = record_fields(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedRecord.model_validate(data)


def _inquiry(row: Any) -> ReportedInquiry:
    data = dict(row)
    data["institution"] = {"code": data.pop("institution_code"), "name": data.pop("institution_name")}
    return ReportedInquiry.model_validate(data)


async def report(tx: Tx, token: str, *, server_key: bytes, now: datetime, audit: AuditIntent) -> SubjectReport:
    key = subject_key(server_key, token.lower())
    since = inquiries_cutoff(now)
    records = [_record(r) for r in await repository.records(tx.conn, key, now.date())]
    inquiries = [_inquiry(i) for i in await repository.inquiries(tx.conn, key, since)]
    audit.resource = "subject"
    audit.details = {"records": len(records), "inquiries": len(inquiries)}
    return SubjectReport(
        subject=token.lower(), generated_at=now, inquiries_since=since, records=records, inquiries=inquiries
    )
