"""Reading the association's alert feed in tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx


async def association_alerts(
    http: httpx.AsyncClient, headers: dict[str, str], expect: int = 0, after: str | None = None, seconds: float = 120
) -> dict[str, Any]:
    """`GET /admin/alerts` after `after`. The feed shows an alert once every older transaction on
    the server has ended (as `/v1/alerts`, tests/monitoring_support.py): with `expect`, read
    again until that many are visible or `seconds` passed (the caller's assertion decides). The
    tests' server is shared, so another database's long transaction can hold alerts back too."""
    deadline = time.monotonic() + seconds
    while True:
        r = await http.get("/admin/alerts", params={"after": after} if after else {}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if len(body["data"]) >= expect or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)
