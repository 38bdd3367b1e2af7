"""Monitoring: watches sent 1000 per request, the alert feed followed by its cursor (and
polled with follow=True), the webhook endpoint and its deliveries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from registry_client import PermissionDenied, RegistryClient
from registry_client.types import Alert, WatchBatchResult

from sdk_helpers import TOKEN_A, TOKEN_B, async_client, problem


def alert(
    n: int, kind: str = "new_delinquency", status: str | None = "dpd_31_60"
) -> dict[str, Any]:
    return {
        "id": n,
        "subject": TOKEN_A,
        "label": "retail",
        "kind": kind,
        "status": status,
        "at": "2026-11-15T09:12:03Z",
    }


def feed(alerts: list[dict[str, Any]], cursor: str) -> httpx.Response:
    return httpx.Response(200, json={"data": alerts, "next_cursor": cursor})


def test_watches_are_added_1000_per_request_and_summed(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/watches").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"created": len(json.loads(request.content)["subjects"]) - 1, "existing": 1}
        )
    )
    subjects = [f"{n:064x}" for n in range(2500)]
    result = client.watches.add([s.upper() for s in subjects], label="auto loans")
    assert result == WatchBatchResult(created=2497, existing=3)
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert [len(body["subjects"]) for body in bodies] == [1000, 1000, 500]
    assert [s for body in bodies for s in body["subjects"]] == subjects  # lower-cased, in order
    assert {body["label"] for body in bodies} == {"auto loans"}
    assert all("idempotency-key" in call.request.headers for call in route.calls)


def test_watch_subjects_are_checked_before_sending(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/watches")
    with pytest.raises(ValueError, match="not a brs1 token"):
        client.watches.add([TOKEN_A, "11010519491231002X"])
    with pytest.raises(ValueError, match="repeats"):
        client.watches.add([TOKEN_A, TOKEN_A])
    with pytest.raises(ValueError, match="no subjects"):
        client.watches.add([])
    with pytest.raises(ValueError, match="not a brs1 token"):
        client.watches.remove("../alerts")
    assert route.call_count == 0


def test_watching_without_a_live_record_is_refused(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.post("/v1/watches").mock(
        return_value=problem(
            403,
            "Forbidden",
            "No live record of yours",
            errors=[{"field": "subjects.0", "message": TOKEN_B}],
        )
    )
    with pytest.raises(PermissionDenied) as refused:
        client.watches.add([TOKEN_B])
    assert refused.value.errors[0].message == TOKEN_B


def test_watches_list_and_remove(client: RegistryClient, api: respx.MockRouter) -> None:
    api.get("/v1/watches").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [
                        {"subject": TOKEN_A, "label": None, "created_at": "2026-11-01T00:00:00Z"}
                    ],
                    "next_cursor": "c2",
                },
            ),
            httpx.Response(
                200,
                json={
                    "data": [
                        {"subject": TOKEN_B, "label": "x", "created_at": "2026-11-02T00:00:00Z"}
                    ],
                    "next_cursor": None,
                },
            ),
        ]
    )
    removed = api.delete(f"/v1/watches/{TOKEN_A}").respond(204)
    assert [w.subject for w in client.watches.list()] == [TOKEN_A, TOKEN_B]
    client.watches.remove(TOKEN_A.upper())
    assert removed.call_count == 1


def test_alerts_follow_next_cursor_until_the_feed_is_empty(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get("/v1/alerts").mock(
        side_effect=[
            feed([alert(1), alert(2, "worsened", "dpd_61_90")], "c1"),
            feed([alert(3, "hard_inquiry", None)], "c2"),
            feed([], "c2"),
        ]
    )
    stream = client.alerts.iter()
    alerts = list(stream)
    assert [a.id for a in alerts] == ["1", "2", "3"]
    assert isinstance(alerts[0], Alert) and alerts[2].status is None
    assert stream.cursor == "c2" and sleeps == []
    sent = [call.request.url.params.get("after") for call in route.calls]
    assert sent == [None, "c1", "c2"]


def test_a_stream_resumes_from_its_cursor_and_repeats_an_unfinished_page(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get("/v1/alerts").mock(
        side_effect=[
            feed([alert(4), alert(5)], "c5"),
            feed([alert(4), alert(5)], "c5"),
            feed([], "c5"),
        ]
    )
    stream = client.alerts.iter(after="c3", page_size=2)
    reading = iter(stream)
    first = next(reading)
    reading.close()  # stopped while handling alert 4: its page is not passed
    assert first.id == "4" and stream.cursor == "c3"
    assert [a.id for a in stream] == ["4", "5"]
    assert stream.cursor == "c5"
    assert [call.request.url.params["after"] for call in route.calls] == ["c3", "c3", "c5"]
    assert route.calls.last.request.url.params["limit"] == "2"


def test_follow_polls_an_empty_feed(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.get("/v1/alerts").mock(side_effect=[feed([], "c0"), feed([], "c0"), feed([alert(1)], "c1")])
    stream = client.alerts.iter(follow=True, poll_interval=7)
    got = next(iter(stream))
    assert got.id == "1" and sleeps == [7, 7]


def test_follow_pages_mark_each_checkpoint(
    client: RegistryClient, api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.get("/v1/alerts").mock(
        side_effect=[feed([alert(1)], "c1"), feed([], "c1"), feed([alert(2)], "c2")]
    )
    stream = client.alerts.iter(follow=True, poll_interval=1)
    cursors = []
    for page in stream.pages():
        cursors.append(page.next_cursor)
        if len(cursors) == 3:
            break
    assert cursors == ["c1", "c1", "c2"] and sleeps == [1]


@pytest.mark.asyncio
async def test_async_watches_and_alerts(api: respx.MockRouter, sleeps: list[float]) -> None:
    api.post("/v1/watches").respond(json={"created": 2, "existing": 0})
    api.delete(f"/v1/watches/{TOKEN_B}").respond(204)
    api.get("/v1/alerts").mock(
        side_effect=[feed([], "c0"), feed([alert(1), alert(2)], "c2"), feed([], "c2")]
    )
    async with async_client() as client:
        assert (await client.watches.add([TOKEN_A, TOKEN_B])).created == 2
        await client.watches.remove(TOKEN_B)
        stream = client.alerts.iter(follow=True, poll_interval=3)
        got = []
        async for item in stream:
            got.append(item.id)
            if len(got) == 2:
                break
        assert got == ["1", "2"] and sleeps == [3]
        rest = client.alerts.iter(after="c2")
        assert [a async for a in rest] == [] and rest.cursor == "c2"


def test_webhook_endpoint(client: RegistryClient, api: respx.MockRouter) -> None:
    put = api.put("/v1/webhook").respond(
        json={
            "url": "https://lender.example/hook",
            "secret": "whsec_generated",
            "created_at": "2026-11-01T00:00:00Z",
            "updated_at": "2026-11-01T00:00:00Z",
        }
    )
    delivery = {
        "id": 9,
        "event": "ping",
        "alert_id": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": "2026-11-01T00:00:00Z",
        "last_attempt_at": None,
        "last_status_code": None,
        "last_error": None,
        "created_at": "2026-11-01T00:00:00Z",
        "delivered_at": None,
    }
    api.post("/v1/webhook/test").respond(202, json=delivery)
    listing = api.get("/v1/webhook/deliveries").respond(
        json={"data": [delivery], "next_cursor": None}
    )
    api.delete("/v1/webhook").respond(204)
    made = client.webhook.set("https://lender.example/hook")
    assert made.secret == "whsec_generated"
    assert json.loads(put.calls.last.request.content) == {"url": "https://lender.example/hook"}
    assert client.webhook.test().event == "ping"
    assert [d.id for d in client.webhook.deliveries(status="pending")] == ["9"]
    assert listing.calls.last.request.url.params["status"] == "pending"
    client.webhook.delete()
    with pytest.raises(ValueError):
        client.webhook.set("https://lender.example/hook", secret="short")
