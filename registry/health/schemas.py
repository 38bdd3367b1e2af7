"""API shapes of health and readiness."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: str = Field(examples=["ok"])

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})


class Readiness(BaseModel):
    status: str
    database: str = Field(description="`ok`, `unreachable` or `error`", examples=["unreachable"])
    reason: str | None = Field(
        default=None, description="Why the service is not ready", examples=["connection refused"]
    )
    migration: str | None
    expected_migration: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "database": "ok",
                    "reason": None,
                    "migration": "0013",
                    "expected_migration": "0013",
                }
            ]
        }
    )
