"""The application factory: routers, error handlers, middleware, and the worker's lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from registry import __version__
from registry.audit import publishing, sealing
from registry.audit.routes import member_router as audit_member_router
from registry.audit.routes import router as audit_router
from registry.auth.credentials import CredentialStatus
from registry.auth.routes import install_oauth_error_handler
from registry.auth.routes import router as auth_router
from registry.auth.tokens import TokenService
from registry.collateral.routes import router as collateral_router
from registry.config import Environment, Settings, get_settings
from registry.console import routes as console
from registry.console import signin as console_signin
from registry.context import audit_failure
from registry.core import apidocs, periodic
from registry.core.db import Database, request_role_problems
from registry.core.embedded import resolve_database_url
from registry.core.errors import (
    BadRequest,
    Forbidden,
    Invalid,
    PayloadTooLarge,
    Problem,
    ProblemDetails,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    install_error_handlers,
    problem_response,
)
from registry.core.keys import load_keyring
from registry.core.metrics import AUDIT_ROWS_SEALED, RequestMetricsMiddleware
from registry.core.middleware import BodyLimitMiddleware, NulGuardMiddleware, RequestIdMiddleware
from registry.core.migrate import head_revision
from registry.core.openapi import add_components, add_list_examples, operation_ids, restore_examples
from registry.core.query import RefuseUnknownQueryParameters
from registry.core.tenancy import load_prover
from registry.disputes import notifications as dispute_notifications
from registry.disputes.routes import admin_router as admin_disputes_router
from registry.disputes.routes import router as disputes_router
from registry.exposure.routes import router as exposure_router
from registry.health.routes import metrics_router
from registry.health.routes import router as health_router
from registry.lean_routes import LeanRoutes, lean_routes
from registry.members.routes import router as members_router
from registry.monitoring.delivery import DeliveryWorker
from registry.monitoring.routes import admin_router as admin_alerts_router
from registry.monitoring.routes import router as monitoring_router
from registry.ratelimit import service as ratelimit
from registry.records.routes import router as records_router
from registry.records.schemas import RecordItem
from registry.retention import scheduler as retention_scheduler
from registry.retention.routes import router as retention_router
from registry.runtime import Runtime
from registry.scorecards import service as scorecards_service
from registry.scorecards.routes import admin_router as admin_scorecards_router
from registry.scorecards.routes import router as scorecards_router
from registry.stats import service as stats_service
from registry.stats.routes import router as stats_router
from registry.subject_report.routes import router as subject_report_router
from registry.uploads.routes import router as uploads_router
from registry.uploads.service import recover_abandoned as recover_abandoned_uploads

logger = logging.getLogger(__name__)

# Routes that stream large bodies and set their own limits.
STREAMED_PATHS = ("/v1/uploads",)
# Public routes that read no query or path parameter, nor a JSON body (the token endpoint reads
# its form itself, and answers RFC 6749 errors): a NUL in their query string is ignored like any
# other query, and they list no 422.
PARAMETERLESS_PATHS = ("/healthz", "/readyz", "/metrics", "/.well-known/jwks.json", "/oauth/token")

DESCRIPTION = """
The shared borrower registry of the lenders' association. Members report delinquency
records under pseudonymous borrower tokens and ask for a borrower's exposure across all
institutions. Every access is audited. Errors are RFC 9457 `application/problem+json`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # An embedded PostgreSQL started here (no URL, and not under `registry serve`, which
        # starts and supervises it itself) is restarted by this process when it dies.
        url = resolve_database_url(settings.database_url, settings.data_dir, supervise=True)
        db = Database(
            url,
            request_url=settings.database_request_url,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            role=settings.database_role or None,
            system_role=settings.database_system_role or None,
            connect_timeout=settings.database_connect_timeout_seconds,
        )
        await db.connect()
        await _check_request_role(db, settings)
        keys = load_keyring(settings)
        async with db.system_pool.acquire() as conn:
            prover = await load_prover(conn)
        credentials = CredentialStatus(db)
        runtime = Runtime(
            settings=settings,
            db=db,
            keys=keys,
            prover=prover,
            tokens=TokenService(settings, keys),
            credentials=credentials,
        )
        await credentials.start()
        await recover_abandoned_uploads(db.system_pool)
        deliveries = DeliveryWorker(runtime)
        runtime.deliveries = deliveries
        await deliveries.start()
        app.state.runtime = runtime

        async def seal_audit() -> None:
            async with db.system_pool.acquire() as conn:
                AUDIT_ROWS_SEALED.inc(await sealing.seal(conn, runtime.tokens.current_key()))

        async def publish_audit_head() -> None:
            async with db.system_pool.acquire() as conn:
                await publishing.publish_if_due(conn, now=runtime.clock(), every_seconds=settings.audit_publish_seconds)

        async def check_dispute_deadlines() -> None:
            async with db.system_pool.acquire() as conn:
                if (await dispute_notifications.check_deadlines(conn, runtime.clock())).reminded:
                    deliveries.wake()

        async def forget_old_counters() -> None:
            await ratelimit.forget_old(db.system_pool, runtime.clock())
            await console_signin.forget_old(db.system_pool, runtime.clock())

        try:
            async with (
                retention_scheduler.running(db, lambda: runtime.clock(), settings.retention_daily),
                periodic.every(settings.audit_seal_seconds, seal_audit, "audit-seal"),
                periodic.every(
                    publishing.check_every(settings.audit_publish_seconds),
                    publish_audit_head,
                    "audit-publish",
                    run_first=True,
                ),
                periodic.every(600, forget_old_counters, "rate-counter-cleanup"),
                periodic.every(settings.dispute_check_seconds, check_dispute_deadlines, "dispute-deadlines"),
                periodic.every(stats_service.FOLD_EVERY_SECONDS, lambda: stats_service.fold(db), "stats-fold"),
                periodic.every(
                    settings.stats_rollup_seconds,
                    lambda: stats_service.roll_up(db, runtime.clock()),
                    "stats-rollup",
                    run_first=True,
                ),
                periodic.every(
                    scorecards_service.FOLD_EVERY_SECONDS, lambda: scorecards_service.fold(db), "scorecards-fold"
                ),
                # Snapshots of the month and thresholds, for members whose figures changed by time alone.
                periodic.every(
                    scorecards_service.DAILY_CHECK_SECONDS,
                    lambda: scorecards_service.daily_check(db, runtime.clock()),
                    "scorecards-daily",
                ),
                # Uploads cut off by a lost database, not only by a stopped process.
                periodic.every(
                    settings.upload_recovery_seconds,
                    lambda: recover_abandoned_uploads(db.system_pool),
                    "upload-recovery",
                ),
            ):
                # Everything made so far lives as long as the worker: out of the collector's
                # reach, a full collection walks only what requests made since, not a
                # quarter of a million objects (a 100 ms pause for every request in flight).
                gc.collect()
                gc.freeze()
                try:
                    yield
                finally:
                    gc.unfreeze()
        finally:
            await deliveries.stop()
            await credentials.close()
            await db.close()

    app = FastAPI(
        title="Borrower Registry",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Every route refuses a query parameter it does not declare (registry/core/query.py).
        dependencies=[RefuseUnknownQueryParameters],
        generate_unique_id_function=operation_ids(),
        docs_url=None,  # served by registry.core.apidocs, with local assets
        redoc_url=None,
    )
    app.state.head_revision = head_revision()
    lean: dict = {}  # filled once the routers are included, below
    if settings.lean_routes:  # innermost: the middleware outside it applies to lean routes too
        app.add_middleware(LeanRoutes, fastapi_app=app, routes=lean)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, exempt_prefixes=STREAMED_PATHS)
    app.add_middleware(NulGuardMiddleware, query_exempt_paths=PARAMETERLESS_PATHS)
    app.add_middleware(RequestMetricsMiddleware, metrics=settings.metrics_enabled)  # inside RequestId: it reads the id
    app.add_middleware(RequestIdMiddleware)
    if settings.forwarded_allow_ips:  # outermost: everything inside sees the client a trusted proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    install_error_handlers(app, audit_failure)
    install_oauth_error_handler(app)
    apidocs.install(app)
    for router in (
        health_router,
        auth_router,
        members_router,
        audit_router,
        records_router,
        exposure_router,
        collateral_router,
        monitoring_router,
        uploads_router,
        disputes_router,
        admin_disputes_router,
        subject_report_router,
        stats_router,
        scorecards_router,
        admin_scorecards_router,
        admin_alerts_router,
        retention_router,
        audit_member_router,
    ):
        app.include_router(router)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    console.install(app)  # after the error handlers: it answers /console errors as pages
    if settings.lean_routes:
        lean.update(lean_routes(app))  # a lean route without a fixed path and a body is refused here, at start
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def _check_request_role(db: Database, settings: Settings) -> None:
    """Row-level security is a wall only if the request login cannot read past it: refuse to
    start in production when it could (superuser, BYPASSRLS, a role it can become, owner)."""
    problems = await request_role_problems(db.pool)
    if not problems:
        return
    message = f"the request login ({db.request_url.rpartition('@')[0].rpartition('/')[2]}) " + "; ".join(problems)
    if settings.env is Environment.production:
        await db.close()
        raise RuntimeError(
            f"refusing to start: {message}. Give the service a request login like registry_app "
            "(REGISTRY_DATABASE_REQUEST_URL); see docs/operations.md"
        )
    logger.warning("row-level security does not bind the request login: %s", message)


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    add_components(schema, ProblemDetails, RecordItem)
    # Every operation documents the problems the shared machinery can answer: validation
    # (FastAPI's own shape replaced by ours), body size, and for authenticated routes
    # 401/403/429/503. The public routes without parameters cannot answer 422 at all.
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            standard: list[type[Problem]] = [] if path in PARAMETERLESS_PATHS else [Invalid]
            if "requestBody" in operation:
                standard += [BadRequest, PayloadTooLarge]  # 400: a body that is not text at all
            if operation.get("security"):  # these also read the database: 503 while it is unreachable
                standard += [Unauthenticated, Forbidden, RateLimited, ServiceUnavailable]
            if path in PARAMETERLESS_PATHS:
                responses.pop("422", None)
            for cls in standard:
                if cls is Invalid or str(cls.status) not in responses:
                    responses[str(cls.status)] = problem_response(cls)
    restore_examples(schema)
    add_list_examples(schema)
    components = schema["components"]["schemas"]
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
