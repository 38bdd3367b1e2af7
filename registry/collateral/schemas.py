"""API shapes of vehicle checks."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from registry.core.schemas import RequestModel
from registry.exposure.schemas import CONSENTED_PURPOSES, Purpose
from registry.records.schemas import MAX_BATCH, Token

EXAMPLE_VEHICLE = "4fab577edf88b4c4d6e6cb5fa6cbdc6ac142db0a0cca9639bd91b2294dee614b"


class VehicleCheckRequest(RequestModel):
    vehicles: list[Token] = Field(min_length=1, max_length=MAX_BATCH, description="vin tokens")
    purpose: Purpose
    consent_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The borrower's authorization (required for loan_application and dispute_investigation)",
        examples=["CONSENT-2026-11-0042"],
    )

    model_config = ConfigDict(
        **{
            "extra": "forbid",
            "json_schema_extra": {
                "examples": [
                    {
                        "vehicles": [EXAMPLE_VEHICLE],
                        "purpose": "loan_application",
                        "consent_ref": "CONSENT-2026-11-0042",
                    }
                ]
            },
        }
    )

    @field_validator("vehicles")
    @classmethod
    def _distinct(cls, vehicles: list[str]) -> list[str]:
        lowered = [v.lower() for v in vehicles]
        if len(set(lowered)) != len(lowered):
            raise ValueError("vehicles must not repeat")
        return lowered

    @model_validator(mode="after")
    def _consent(self) -> VehicleCheckRequest:
        if self.purpose in CONSENTED_PURPOSES and self.consent_ref is None:
            raise ValueError(f"consent_ref is required for {self.purpose.value}: the borrower's authorization")
        return self


class OwnPledges(BaseModel):
    accounts: int = Field(description="Your own live accounts on the vehicle", examples=[0])


class VehicleExposure(BaseModel):
    """Who else lends against one vehicle, in counts: never which institution."""

    vehicle: str = Field(examples=[EXAMPLE_VEHICLE])
    found: bool = Field(description="Some held account, yours or another's, live or settled, names the vehicle")
    live_accounts_elsewhere: int = Field(description="Other institutions' live accounts on it", examples=[1])
    institutions_elsewhere: int = Field(examples=[1])
    delinquent_elsewhere: int = Field(examples=[0])
    latest_opened_on: date | None = Field(description="The newest opening date of those accounts")
    own: OwnPledges


class VehicleCheckResponse(BaseModel):
    results: list[VehicleExposure]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "vehicle": EXAMPLE_VEHICLE,
                            "found": True,
                            "live_accounts_elsewhere": 1,
                            "institutions_elsewhere": 1,
                            "delinquent_elsewhere": 0,
                            "latest_opened_on": "2025-06-01",
                            "own": {"accounts": 0},
                        }
                    ]
                }
            ]
        }
    )
