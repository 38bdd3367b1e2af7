"""API shape of a retention pass."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class RetentionResult(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "day": "2026-11-28",
                    "inquiries_before": "2024-11-28T02:00:00Z",
                    "records": 1204,
                    "record_events": 3310,
                    "inquiries": 88210,
                    "alerts_before": "2024-11-28T02:00:00Z",
                    "alerts": 412,
                    "webhook_deliveries_before": "2026-10-29T02:00:00Z",
                    "webhook_deliveries": 1530,
                }
            ]
        }
    }

    day: date = Field(description="The day the pass ran for: records with expires_on on or before it are deleted")
    inquiries_before: datetime = Field(description="Inquiries older than this (24 months) are deleted")
    records: int = Field(description="Expired records deleted")
    record_events: int = Field(description="Their history events deleted")
    inquiries: int = Field(description="Inquiries older than 24 months deleted")
    alerts_before: datetime = Field(description="Alerts raised before this (24 months) are deleted")
    alerts: int = Field(description="Alerts older than 24 months deleted")
    webhook_deliveries_before: datetime = Field(
        description="Finished webhook deliveries (delivered, failed, cancelled) created before this (30 days) are "
        "deleted, with any delivery of a deleted alert"
    )
    webhook_deliveries: int = Field(description="Webhook deliveries deleted")
