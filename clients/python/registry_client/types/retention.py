"""A retention pass: what it deleted."""

from __future__ import annotations

from datetime import date, datetime

from registry_client.types._models import ResponseModel


class RetentionResult(ResponseModel):
    day: date
    inquiries_before: datetime | None = None
    records: int = 0
    record_events: int = 0
    inquiries: int = 0
    alerts_before: datetime | None = None
    alerts: int = 0
    webhook_deliveries_before: datetime | None = None
    webhook_deliveries: int = 0
