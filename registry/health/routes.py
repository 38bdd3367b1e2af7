"""HTTP of health: `/healthz` (the process answers), `/readyz` (database reachable,
migrations at head) and `/metrics` (Prometheus; included only when metrics are enabled)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from registry.core import metrics as prometheus
from registry.core.migrate import head_revision
from registry.runtime import get_runtime

router = APIRouter(tags=["ops"])
metrics_router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Readiness", responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    runtime = get_runtime(request)
    expected = request.app.state.head_revision
    try:
        current = await runtime.db.pool.fetchval("SELECT version_num FROM alembic_version")
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        current, database = None, "unreachable"
    ready = database == "ok" and current == expected
    body = Readiness(status="ready" if ready else "not ready", database=database, migration=current,
                     expected_migration=expected)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


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
