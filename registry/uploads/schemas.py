"""API shapes of uploads: the job as the member sees it, and one line of its error report."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from registry.core import rows
from registry.core.schemas import ResponseModel
from registry.records.schemas import ItemError
from registry.uploads.lines import Format


class JobStatus(StrEnum):
    receiving = "receiving"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class UploadJobOut(ResponseModel):
    """An upload and how far it got. `created + updated + unchanged + stale + rejected =
    processed_lines`; each line's outcome is the one POST /v1/records would give."""

    id: uuid.UUID
    status: JobStatus
    format: Format
    gzip: bool
    received_lines: int = Field(
        description="Data lines read from the body so far (blank lines and the CSV header not counted)"
    )
    total_lines: int | None = Field(description="Data lines in the whole file, once it has been read to the end")
    processed_lines: int = Field(description="Lines whose outcome is committed")
    created: int
    updated: int
    unchanged: int
    stale: int
    rejected: int
    error: str | None = Field(description="Why the job failed", examples=[None])
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7d3e9f1a-2b4c-4d6e-8f0a-1c3e5a7b9d2f",
                    "status": "completed",
                    "format": "csv",
                    "gzip": True,
                    "received_lines": 120000,
                    "total_lines": 120000,
                    "processed_lines": 120000,
                    "created": 1830,
                    "updated": 96210,
                    "unchanged": 21902,
                    "stale": 0,
                    "rejected": 58,
                    "error": None,
                    "created_at": "2026-11-28T02:00:00Z",
                    "updated_at": "2026-11-28T02:01:47Z",
                    "finished_at": "2026-11-28T02:01:47Z",
                }
            ]
        },
    )

    @classmethod
    def of(cls, row: Any) -> UploadJobOut:
        """From a job row (registry.uploads.repository.JobRow), whose counts end in `_lines`."""
        data = rows.as_dict(row)
        for outcome in ("created", "updated", "unchanged", "stale", "rejected"):
            data[outcome] = data.pop(f"{outcome}_lines")
        return cls.model_validate(data)


class UploadErrorLine(BaseModel):
    """One line of `GET /v1/uploads/{id}/errors` (NDJSON). A report keeps a job's first
    rejected lines only (10 000 by default); where it stops, one more entry says so, with the
    reason field `report`."""

    line: int = Field(description="Physical line number in the file, from 1 (a CSV header is line 1)", examples=[7])
    account_ref: str | None = Field(examples=["LN-2024-000187"])
    errors: list[ItemError]
