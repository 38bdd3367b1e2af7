"""HTTP of health: `/healthz` (the process answers), `/readyz` (database reachable,
migrations at head) and `/metrics` (Prometheus; included only when metrics are enabled)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from registry.core import metrics as prometheus
from registry.core.errors import RETRY_AFTER_SECONDS, database_unavailable_reason
from registry.core.migrate import head_revision
from registry.runtime import get_runtime

router = APIRouter(tags=["ops"])
metrics_router = APIRouter(tags=["ops"])


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


# A readiness probe answers within this, even when the pool waits on a busy or dead server.
READY_CHECK_SECONDS = 5.0


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Readiness", responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    runtime = get_runtime(request)
    expected = request.app.state.head_revision
    current, database, reason = None, "ok", None
    try:
        async with asyncio.timeout(READY_CHECK_SECONDS):
            current = await runtime.db.pool.fetchval("SELECT version_num FROM alembic_version")
    except TimeoutError:
        database, reason = "unreachable", "no answer within the readiness check"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which kind
        reason = database_unavailable_reason(exc)
        database = "unreachable" if reason else "error"
        reason = reason or type(exc).__name__
    ready = database == "ok" and current == expected
    if database == "ok" and not ready:
        reason = "migrations are not at the expected revision"
    body = Readiness(status="ready" if ready else "not ready", database=database, reason=reason, migration=current,
                     expected_migration=expected)
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
