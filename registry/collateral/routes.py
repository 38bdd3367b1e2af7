"""HTTP of vehicle checks (`POST /v1/collateral/exposure`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.auth.principal import Scope
from registry.collateral import service
from registry.collateral.schemas import VehicleCheckRequest, VehicleCheckResponse
from registry.context import Exposure, audited
from registry.core.errors import Forbidden, Invalid, PayloadTooLarge, Unauthenticated, problem_responses
from registry.lean_routes import lean

router = APIRouter(prefix="/v1", tags=["collateral"], responses=problem_responses(Unauthenticated, Forbidden))


@router.post(
    "/collateral/exposure",
    response_model=VehicleCheckResponse,
    dependencies=[audited(AuditAction.COLLATERAL_EXPOSURE_QUERY)],
    responses=problem_responses(Invalid, PayloadTooLarge),
    summary="Whether vehicles are already pledged at other institutions",
    description=(
        "Up to 1000 `vin` tokens. Purpose rules are those of `POST /v1/exposure`: `loan_application` needs "
        "`consent_ref`; `account_review`, `collection` and `dispute_investigation` need a live account of yours on "
        "every vehicle (else 403 naming them). Vehicles count against the same per-minute exposure quota as "
        "subjects. Per vehicle: other institutions' live accounts on it (not settled or closed), how many "
        "institutions and how many delinquent, the newest opening date, and your own live accounts apart; "
        "never which institutions. The request is audited; no inquiry is recorded (a vehicle is no borrower)."
    ),
)
@lean(Scope.EXPOSURE_READ, AuditAction.COLLATERAL_EXPOSURE_QUERY)
async def vehicle_check(body: VehicleCheckRequest, ctx: Exposure) -> Response:
    payload, headers = await service.check_vehicles(ctx, body)
    return Response(payload, media_type="application/json", headers=headers)
