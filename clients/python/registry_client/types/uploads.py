"""Bulk uploads: the job `/v1/uploads` answers, and one line of its error report."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from registry_client.types._models import ResponseModel
from registry_client.types.shared import FieldError


class UploadStatus(StrEnum):
    RECEIVING = "receiving"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


FINISHED = frozenset({UploadStatus.COMPLETED, UploadStatus.FAILED})


class UploadJob(ResponseModel):
    """An upload and how far it got: `created + updated + unchanged + stale + rejected =
    processed_lines`, each line with the outcome `records.submit` would have given it."""

    id: str
    status: str
    format: str | None = None
    gzip: bool = False
    received_lines: int = 0
    total_lines: int | None = None
    processed_lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    error: str | None = Field(default=None, description="Why the job failed")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class UploadErrorLine(ResponseModel):
    """One rejected line: its physical line number in the file (from 1; a CSV header is
    line 1), its `account_ref` when it could be read, and the reasons."""

    line: int
    account_ref: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
