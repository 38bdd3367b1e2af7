"""HTTP of health: `/healthz` (the process answers), `/readyz` (database reachable,
migrations at head) and `/metrics` (Prometheus; included only when metrics are enabled)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from registry.core import metrics as prometheus
from registry.core.errors import RETRY_AFTER_SECONDS
from registry.core.migrate import head_revision
from registry.health import service
from registry.health.schemas import Health, Readiness
from registry.runtime import get_runtime

router = APIRouter(tags=["ops"])
metrics_router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Readiness", responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    body = await service.readiness(get_runtime(request).db, request.app.state.head_revision)
    ready = body.status == "ready"
    headers = None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503, headers=headers)


@metrics_router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    description="Every worker's metrics in the Prometheus text format. Public like /healthz: keep it "
    "inside the operators' network.",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The metrics"}},
)
def metrics() -> Response:  # sync: reading the workers' files runs in the thread pool, off the event loop
    return Response(prometheus.exposition(), media_type=prometheus.CONTENT_TYPE)


__all__ = ["head_revision", "metrics_router", "router"]
