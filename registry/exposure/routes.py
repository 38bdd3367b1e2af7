"""HTTP of the exposure query (`POST /v1/exposure`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from registry.audit.actions import AuditAction
from registry.auth.principal import Scope
from registry.context import Exposure, audited
from registry.core.errors import (
    Forbidden,
    Invalid,
    PayloadTooLarge,
    Unauthenticated,
    problem_responses,
)
from registry.exposure import service
from registry.exposure.schemas import ExposureRequest, ExposureResponse
from registry.lean_routes import lean

router = APIRouter(prefix="/v1", tags=["exposure"], responses=problem_responses(Unauthenticated, Forbidden))


@router.post(
    "/exposure",
    response_model=ExposureResponse,
    dependencies=[audited(AuditAction.EXPOSURE_QUERY)],
    responses=problem_responses(Invalid, PayloadTooLarge),
    summary="A borrower's exposure across other institutions",
    description=(
        "Up to 1000 subjects. `loan_application` needs `consent_ref` and is a hard inquiry; `dispute_investigation` "
        "needs `consent_ref` too; `account_review`, "
        "`collection` and `dispute_investigation` need a record of yours on every subject (else 403 naming them, "
        "nothing recorded); for `dispute_investigation` an open dispute you filed about the subject also "
        "qualifies. Every figure but `own` counts other institutions only, never naming them. Records suppressed "
        "by an upheld dispute, or under a dispute unresolved past its deadline, are left out. Each "
        "subject of an accepted query is an inquiry; the request is audited."
    ),
)
@lean(Scope.EXPOSURE_READ, AuditAction.EXPOSURE_QUERY)
async def exposure(body: ExposureRequest, ctx: Exposure) -> Response:
    payload, headers = await service.query(ctx, body)
    return Response(payload, media_type="application/json", headers=headers)
