"""`client.admin.audit.export`: NDJSON written from a registry that streams the log, or from
one that answers JSON pages, the same either way."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx

from registry_client import RegistryClient

from sdk_helpers import MEMBER_ID

ENTRIES = [
    {"id": n, "at": "2026-02-01T10:00:00Z", "action": "exposure.query", "outcome": 200}
    for n in (3, 2, 1)
]


def test_export_reads_a_streamed_answer(
    api: respx.MockRouter, client: RegistryClient, tmp_path: Path
) -> None:
    body = "".join(json.dumps(e) + "\n" for e in ENTRIES)
    route = api.get("/admin/audit").respond(
        200, content=body, headers={"Content-Type": "application/x-ndjson"}
    )
    written = client.admin.audit.export(tmp_path / "audit.ndjson", member_id=MEMBER_ID)
    assert written == 3 and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["accept"].startswith("application/x-ndjson")
    assert request.url.params["member_id"] == MEMBER_ID
    lines = [json.loads(x) for x in (tmp_path / "audit.ndjson").read_text().splitlines()]
    assert [e["id"] for e in lines] == [3, 2, 1]


def test_export_follows_json_pages(
    api: respx.MockRouter, client: RegistryClient, tmp_path: Path
) -> None:
    route = api.get("/admin/audit").mock(
        side_effect=[
            httpx.Response(200, json={"data": ENTRIES[:2], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": ENTRIES[2:], "next_cursor": None}),
        ]
    )
    target = tmp_path / "audit.ndjson"
    assert client.admin.audit.export(target, action="exposure.query") == 3
    assert [call.request.url.params.get("cursor") for call in route.calls] == [None, "c2"]
    assert [json.loads(x)["id"] for x in target.read_text().splitlines()] == [3, 2, 1]
