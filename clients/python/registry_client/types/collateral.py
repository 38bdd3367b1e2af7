"""Vehicle checks: whether cars are already pledged at other institutions."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from registry_client.types._models import RequestModel, ResponseModel
from registry_client.types.exposure import Purpose


class VehicleCheck(RequestModel):
    vehicles: list[str] = Field(min_length=1, max_length=1000)
    purpose: Purpose
    consent_ref: str | None = Field(default=None, min_length=1, max_length=128)


class OwnPledges(ResponseModel):
    accounts: int = 0


class VehicleExposure(ResponseModel):
    """Other institutions' live accounts on one vehicle, in counts; never which institution."""

    vehicle: str
    found: bool
    live_accounts_elsewhere: int = 0
    institutions_elsewhere: int = 0
    delinquent_elsewhere: int = 0
    latest_opened_on: date | None = None
    own: OwnPledges = Field(default_factory=OwnPledges)


class VehicleCheckResponse(ResponseModel):
    """One result per vehicle, in the order asked."""

    results: list[VehicleExposure]
