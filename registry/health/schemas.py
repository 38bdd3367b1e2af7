"""API shapes of health and readiness."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str = Field(description="`ok`, `unreachable` or `error`", examples=["unreachable"])
    reason: str | None = Field(
        default=None, description="Why the service is not ready", examples=["connection refused"]
    )
    migration: str | None
    expected_migration: str
