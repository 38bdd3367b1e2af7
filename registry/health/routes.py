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

METRICS_EXAMPLE = """# HELP registry_http_requests_total HTTP requests answered
# TYPE registry_http_requests_total counter
registry_http_requests_total{method="POST",route="/v1/exposure",status="200"} 10423.0
"""
metrics_router = APIRouter(tags=["ops"])

METRICS_EXAMPLE = """# HELP registry_http_requests_total HTTP requests answered
# TYPE registry_http_requests_total counter
registry_http_requests_total{method="POST",route="/v1/exposure",status="200"} 10423.0
"""


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness",
    description="Answers while the process serves requests, without touching the database: for a container's "
    "liveness probe. Readiness is /readyz.",
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    description="Ready when the database answers and its schema is at the migration this code expects; otherwise "
    "503 with `Retry-After` and the reason, so that a load balancer sends the instance no traffic.",
    responses={503: {"model": Readiness}},
)
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
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
            "description": "The metrics",
        }
    },
)
def metrics() -> Response:  # sync: reading the workers' files runs in the thread pool, off the event loop
    return Response(prometheus.exposition(), media_type=prometheus.CONTENT_TYPE)


__all__ = ["head_revision", "metrics_router", "router"]
