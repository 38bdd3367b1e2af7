"""Helpers of the monitoring tests: a watched borrower, reading the feed, and a real HTTP
receiver on 127.0.0.1 that records what it is sent and answers with scripted statuses."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.factories import Member, item, submit, token


@dataclass
class Watched:
    watcher: Member
    subject: str


async def watched_subject(
    http: httpx.AsyncClient, registry: Any, watcher: Member | None = None, label: str | None = None
) -> Watched:
    """A member holding a current record on a fresh borrower, and watching it."""
    watcher = watcher or await registry.member()
    subject = token()
    assert (await submit(http, watcher, item(subject, as_of="2026-10-31"))).status_code == 200
    body: dict[str, Any] = {"subjects": [subject]}
    if label:
        body["label"] = label
    response = await http.post("/v1/watches", json=body, headers=watcher.headers)
    assert response.status_code == 200, response.text
    return Watched(watcher, subject)


async def delinquent(
    http: httpx.AsyncClient, reporter: Member, subject: str, account_ref: str, status: str, as_of: str = "2026-11-15"
) -> None:
    response = await submit(
        http, reporter, item(subject, account_ref, status=status, as_of=as_of, overdue_amount="500.00")
    )
    assert response.status_code == 200 and response.json()["summary"]["rejected"] == 0, response.text


async def read_feed(
    http: httpx.AsyncClient, member: Member, after: str | None = None, limit: int = 100
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = await http.get("/v1/alerts", params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def all_alerts(
    http: httpx.AsyncClient, member: Member, expect: int = 0, seconds: float = 30
) -> list[dict[str, Any]]:
    """The member's feed from the start. The feed shows an alert once every transaction older
    than it has ended anywhere on the database server (docs/monitoring.md), so a background
    job's transaction may hold a just-committed alert back for a moment: with `expect`, read
    again until that many are visible or `seconds` passed (the caller's assertion decides)."""
    deadline = time.monotonic() + seconds
    while True:
        alerts = (await read_feed(http, member, limit=500))["data"]
        if len(alerts) >= expect or time.monotonic() > deadline:
            return alerts
        await asyncio.sleep(0.05)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 in a thread: answers each POST with the next scripted
    status (200 once the script is used up) and keeps what it got."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/registry"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
