"""Prometheus metrics and the access log: one pure ASGI middleware times every request and
counts it by route template (never the raw path, which holds ids), method and status, and
writes one access-log line; a few domain counters are bumped where the work happens.

With `registry serve --workers N` every worker writes its values to files in a shared
directory (prometheus-client's multiprocess mode, chosen by `PROMETHEUS_MULTIPROC_DIR`,
which `serve` sets before the workers start), so `GET /metrics` on any worker answers for
all of them. Without that variable (one process, tests) values live in memory."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import Counter as Tally
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.core.logging import REQUEST_ID

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads
UNMATCHED = "unmatched"  # the route label of requests no route answered (404s, early refusals)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

disable_created_metrics()

REQUESTS = Counter("registry_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "registry_http_request_duration_seconds",
    "Time from the request's arrival to its last response byte",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EXPOSURE_SUBJECTS = Counter("registry_exposure_subjects_total", "Subjects answered by exposure queries", ["purpose"])
RECORDS = Counter("registry_records_total", "Submitted record items, by outcome", ["outcome"])
UPLOAD_LINES = Counter("registry_upload_lines_total", "Lines of uploaded files loaded, by outcome", ["outcome"])
WEBHOOK_DELIVERIES = Counter("registry_webhook_deliveries_total", "Webhook delivery attempts, by result", ["result"])
AUDIT_ROWS_SEALED = Counter("registry_audit_rows_sealed_total", "Audit rows sealed into signed checkpoints")

access_log = logging.getLogger("registry.access")

_MULTIPROCESS_DIR = os.environ.get(MULTIPROCESS_ENV)  # read when prometheus-client chose its value store
if _MULTIPROCESS_DIR:
    _registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(_registry)
else:
    _registry = REGISTRY


def count(counter: Counter, labels: Iterable[str]) -> None:
    """Count a batch at once: one increment per distinct label, e.g. per-item outcomes."""
    for label, n in Tally(labels).items():
        counter.labels(label).inc(n)


def exposition() -> bytes:
    """Every metric of every worker, in the Prometheus text format."""
    return generate_latest(_registry)


def prepare_multiprocess_dir(data_dir: Path) -> Path:
    """An empty directory for the workers' metric files: `<data dir>/metrics`, emptied (the
    previous run's workers are gone), or a fresh temporary one when the data dir is not
    writable (a read-only image)."""
    path = data_dir / "metrics"
    try:
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink()
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="registry-metrics-"))
    return path


class RequestMetricsMiddleware:
    """Counts and times each request, writes its access-log line, and makes its request id
    (set by RequestIdMiddleware, which must wrap this one) visible to every log line."""

    def __init__(self, app: ASGIApp, metrics: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = scope.get("state", {}).get("request_id")
        context = REQUEST_ID.set(request_id)
        status = 500  # what the client gets when the app raises before answering
        done = False

        def finish() -> None:
            nonlocal done
            done = True
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            if self.metrics:
                self._observe(method, route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                        "request_id": request_id,
                    },
                )

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finish()  # before the last byte leaves: whoever got the response can see it counted
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if not done:
                finish()
            REQUEST_ID.reset(context)

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # label lookups once per series, not per request
            series = self._series[key] = (REQUESTS.labels(*key), LATENCY.labels(*key))
        series[0].inc()
        series[1].observe(elapsed)
