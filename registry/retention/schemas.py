"""API shape of a retention pass."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class RetentionResult(BaseModel):
    day: date = Field(description="The day the pass ran for: records with expires_on on or before it are deleted")
    inquiries_before: datetime = Field(description="Inquiries older than this (24 months) are deleted")
    records: int = Field(description="Expired records deleted")
    record_events: int = Field(description="Their history events deleted")
    inquiries: int = Field(description="Inquiries older than 24 months deleted")
