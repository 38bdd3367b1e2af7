"""The webhook delivery worker: every service process runs one. It claims due rows of the
`webhook_deliveries` outbox (FOR UPDATE SKIP LOCKED, so processes never wait on each other),
POSTs each signed body with a short timeout outside any transaction, and records the outcome.
A failed delivery is retried with exponential backoff until 24 hours after it was queued.

The API never waits for a receiver: the request only writes the outbox row, and delivery
happens here. A delivery is at least once (a process that dies after POSTing and before
recording the outcome leaves the row to be sent again after its lease), so receivers should
de-duplicate by the `Registry-Delivery` id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from registry import __version__
from registry.core.metrics import WEBHOOK_DELIVERIES, count
from registry.monitoring import repository
from registry.monitoring.egress import loopback_allowed, webhook_transport
from registry.monitoring.repository import AlertRow, DueDelivery
from registry.monitoring.service import alert_out, open_secret
from registry.monitoring.signatures import HEADER, sign
from registry.runtime import Runtime

logger = logging.getLogger(__name__)

BATCH = 50
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 3600.0
ERROR_CHARS = 500


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 30 s doubling to 1 h, +0-10 %."""
    base = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return base * (1 + random.random() / 10)


@dataclass
class Outcome:
    id: int
    status: str
    next_attempt_at: datetime | None = None
    status_code: int | None = None
    error: str | None = None


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        settings = runtime.settings
        self._poll = settings.webhook_poll_seconds
        self._timeout = settings.webhook_timeout_seconds
        # A claim outlives the slowest possible POST, so a live worker never loses its rows.
        self._lease = self._timeout * 2 + 30
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            transport=webhook_transport(relaxed=loopback_allowed(self._runtime.settings.env)),
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": f"borrower-registry-webhooks/{__version__}"},
        )
        if self._poll > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="webhook-deliveries")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self._timeout + 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                while await self.run_once() == BATCH and not self._stopping:
                    pass
            except Exception:  # the loop must outlive a database or network hiccup
                logger.exception("webhook delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim what is due at `now` (default: the service clock), deliver it and
        record the outcomes. Returns how many deliveries were attempted."""
        if self._client is None:
            raise RuntimeError("the delivery worker is not started")
        now = now or self._runtime.clock()
        pool = self._runtime.db.system_pool  # deliveries are every member's
        rows = await repository.claim_due(pool, now=now, limit=BATCH, lease_seconds=self._lease)
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(row, now) for row in rows))
        await repository.record_outcomes(
            pool,
            ids=[o.id for o in outcomes],
            statuses=[o.status for o in outcomes],
            next_attempts=[o.next_attempt_at for o in outcomes],
            status_codes=[o.status_code for o in outcomes],
            errors=[o.error for o in outcomes],
            now=now,
        )
        count(WEBHOOK_DELIVERIES, (o.status for o in outcomes))
        return len(rows)

    def _body(self, row: DueDelivery) -> bytes:
        server_key = self._runtime.keys.server_key
        data: dict[str, Any] = {}
        if row.event == "alert":
            assert row.alert_id is not None and row.kind is not None and row.at is not None
            alert = AlertRow(
                id=row.alert_id,
                subject_key=row.subject_key,
                subject_sealed=row.subject_sealed,
                label=row.label,
                kind=row.kind,
                status=row.status,
                at=row.at,
                txid=0,
                details=row.details,
                account_ref=row.account_ref,
                record_id=row.record_id,
                dispute_id=row.dispute_id,
            )
            data = alert_out(server_key, row.member_id, alert).model_dump(mode="json")
        return orjson.dumps({"id": row.id, "type": row.event, "created_at": row.created_at, "data": data})

    async def _deliver(self, row: DueDelivery, now: datetime) -> Outcome:
        if row.url is None or row.secret_sealed is None:
            return Outcome(row.id, "cancelled", error="webhook removed")
        assert self._client is not None
        status_code: int | None = None
        try:
            body = self._body(row)
            secret = open_secret(self._runtime.keys.server_key, row.member_id, row.secret_sealed)
            response = await self._client.post(
                row.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    HEADER: sign(secret, int(now.timestamp()), body),
                    "Registry-Delivery": str(row.id),
                    "Registry-Event": row.event,
                },
            )
            status_code = response.status_code
            if response.is_success:
                return Outcome(row.id, "delivered", status_code=status_code)
            error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # a bad row must not stop the others
            logger.exception("webhook delivery %s could not be sent", row.id)
            error = f"internal error: {type(exc).__name__}"
        deadline = row.created_at + RETRY_FOR
        if now >= deadline:
            return Outcome(row.id, "failed", status_code=status_code, error=error[:ERROR_CHARS])
        next_attempt = min(now + timedelta(seconds=retry_delay(row.attempts)), deadline)
        return Outcome(row.id, "pending", next_attempt, status_code, error[:ERROR_CHARS])
