"""Records: batching and merging of submissions, local checks, pagination, get and withdraw."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pydantic
import pytest
import respx

from registry_client import RegistryClient
from registry_client.types import RecordItem

from sdk_helpers import TOKEN_A, TOKEN_B, async_client, record_id


def item(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "subject": TOKEN_A,
        "subject_type": "individual",
        "account_ref": f"ACC-{n}",
        "product": "auto_loan",
        "status": "current",
        "as_of": "2026-01-31",
        "principal_amount": "1000.00",
        "outstanding_amount": "900.00",
        **fields,
    }


def echo_batch(request: httpx.Request) -> httpx.Response:
    """Answer a batch like the registry: every item created, indexes within the batch."""
    records = json.loads(request.content)["records"]
    results = [
        {
            "index": i,
            "account_ref": r["account_ref"],
            "outcome": "created",
            "record_id": f"id-{r['account_ref']}",
            "errors": [],
        }
        for i, r in enumerate(records)
    ]
    return httpx.Response(
        200,
        json={
            "results": results,
            "summary": {
                "created": len(records),
                "updated": 0,
                "unchanged": 0,
                "stale": 0,
                "rejected": 0,
            },
        },
    )


def test_submit_sends_batches_of_1000_and_merges_in_order(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_batch)
    progress: list[int] = []
    result = client.records.submit((item(n) for n in range(2500)), on_batch=progress.append)
    sizes = [len(json.loads(call.request.content)["records"]) for call in route.calls]
    assert sizes == [1000, 1000, 500]
    assert progress == [1000, 1000, 500]
    assert [r.index for r in result.results] == list(range(2500))
    assert [r.account_ref for r in result.results] == [f"ACC-{n}" for n in range(2500)]
    assert result.summary.created == 2500
    assert result.summary.rejected == 0
    assert len({call.request.headers["Idempotency-Key"] for call in route.calls}) == 3


def test_submit_sums_every_summary_count(client: RegistryClient, api: respx.MockRouter) -> None:
    answers = iter(
        [
            {
                "created": 600,
                "updated": 300,
                "unchanged": 50,
                "stale": 40,
                "rejected": 10,
                "suppressed": 1,
            },
            {
                "created": 1,
                "updated": 2,
                "unchanged": 3,
                "stale": 4,
                "rejected": 0,
                "suppressed": 2,
            },
        ]
    )

    def respond(request: httpx.Request) -> httpx.Response:
        records = json.loads(request.content)["records"]
        results = [
            {"index": i, "account_ref": r["account_ref"], "outcome": "updated"}
            for i, r in enumerate(records)
        ]
        return httpx.Response(200, json={"results": results, "summary": next(answers)})

    api.post("/v1/records").mock(side_effect=respond)
    summary = client.records.submit([item(n) for n in range(1010)]).summary
    assert summary.model_dump() == {
        "created": 601,
        "updated": 302,
        "unchanged": 53,
        "stale": 44,
        "rejected": 10,
        "suppressed": 3,
    }


def test_server_rejections_keep_their_reasons(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.post("/v1/records").mock(
        return_value=httpx.Response(
            200,
            json={
                "results": [
                    {
                        "index": 0,
                        "account_ref": "ACC-0",
                        "outcome": "created",
                        "record_id": record_id(0),
                        "errors": [],
                    },
                    {
                        "index": 1,
                        "account_ref": "ACC-1",
                        "outcome": "rejected",
                        "record_id": None,
                        "errors": [
                            {"field": "notice_sent_on", "message": "required for a negative status"}
                        ],
                    },
                ],
                "summary": {"created": 1, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 1},
            },
        )
    )
    result = client.records.submit(
        [item(0), item(1, status="dpd_31_60", delinquent_since="2025-12-01")]
    )
    assert [r.account_ref for r in result.rejected] == ["ACC-1"]
    assert result.rejected[0].errors[0].field == "notice_sent_on"


def test_invalid_items_are_rejected_locally_and_never_sent(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_batch)
    result = client.records.submit(
        [
            item(0),
            item(1, subject="11010519491231002X"),  # a raw identity where the token belongs
            item(2, status="late"),
            item(3, unknown_field="x"),
            item(4),
        ]
    )
    sent = json.loads(route.calls.last.request.content)["records"]
    assert [r["account_ref"] for r in sent] == ["ACC-0", "ACC-4"]
    assert "11010519491231002X" not in route.calls.last.request.content.decode()
    assert [(r.index, r.outcome) for r in result.results] == [
        (0, "created"),
        (1, "rejected"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "created"),
    ]
    assert result.results[1].errors[0].field == "subject"
    assert result.results[2].errors[0].field == "status"
    assert result.results[3].errors[0].field == "unknown_field"
    assert (result.summary.created, result.summary.rejected) == (2, 3)


def test_a_repeated_account_is_rejected_even_across_batches(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_batch)
    items = [item(n) for n in range(1000)] + [item(7)]
    result = client.records.submit(items)
    assert route.call_count == 1
    assert result.results[1000].outcome == "rejected"
    assert "repeats item 7" in result.results[1000].errors[0].message
    assert result.summary.rejected == 1


def test_a_batch_of_only_invalid_items_sends_nothing(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_batch)
    result = client.records.submit([item(0, as_of="yesterday")])
    assert route.call_count == 0
    assert result.summary.rejected == 1


def test_typed_items_serialize_as_the_api_expects(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.post("/v1/records").mock(side_effect=echo_batch)
    record = RecordItem(
        subject=TOKEN_B,
        subject_type="enterprise",
        account_ref="LOAN:9",
        product="enterprise_loan",
        status="dpd_61_90",
        as_of=date(2026, 1, 31),
        principal_amount=Decimal("180000"),
        outstanding_amount=Decimal("150000.00"),
        overdue_amount=Decimal("6200.5"),
        delinquent_since=date(2025, 11, 20),
        notice_sent_on=date(2025, 12, 1),
    )
    client.records.submit([record])
    assert json.loads(route.calls.last.request.content)["records"] == [
        {
            "subject": TOKEN_B,
            "subject_type": "enterprise",
            "account_ref": "LOAN:9",
            "product": "enterprise_loan",
            "status": "dpd_61_90",
            "as_of": "2026-01-31",
            "principal_amount": "180000",
            "outstanding_amount": "150000.00",
            "overdue_amount": "6200.5",
            "delinquent_since": "2025-11-20",
            "notice_sent_on": "2025-12-01",
        }
    ]


@pytest.mark.parametrize("missing", ["principal_amount", "outstanding_amount"])
def test_an_item_without_the_amounts_the_registry_requires_is_refused_before_sending(
    client: RegistryClient, api: respx.MockRouter, missing: str
) -> None:
    route = api.post("/v1/records")
    fields: dict[str, Any] = {
        "subject": TOKEN_B,
        "subject_type": "individual",
        "account_ref": "LOAN:10",
        "product": "consumer_loan",
        "status": "current",
        "as_of": date(2026, 1, 31),
        "principal_amount": Decimal("1000"),
        "outstanding_amount": Decimal("900"),
    }
    del fields[missing]
    with pytest.raises(pydantic.ValidationError, match=missing):
        RecordItem(**fields)
    assert route.call_count == 0


def test_submit_nothing_sends_nothing(client: RegistryClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/records")
    result = client.records.submit([])
    assert result.results == [] and result.summary.created == 0
    assert route.call_count == 0


def record(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id(n),
        "account_ref": f"ACC-{n}",
        "status": "current",
        "overdue_amount": "0.00",
        **fields,
    }


def test_list_iterates_every_page_with_filters(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get("/v1/records").mock(
        side_effect=[
            httpx.Response(200, json={"data": [record(1), record(2)], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": [record(3)], "next_cursor": "c3"}),
            httpx.Response(200, json={"data": [], "next_cursor": None}),
        ]
    )
    records = list(
        client.records.list(subject=TOKEN_A, status="dpd_31_60", product="auto_loan", page_size=2)
    )
    assert [r.id for r in records] == [record_id(1), record_id(2), record_id(3)]
    params = [dict(call.request.url.params) for call in route.calls]
    filters = {"subject": TOKEN_A, "status": "dpd_31_60", "product": "auto_loan", "limit": "2"}
    assert params == [filters, {**filters, "cursor": "c2"}, {**filters, "cursor": "c3"}]


def test_list_is_lazy_and_pages_are_available(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get("/v1/records").mock(
        side_effect=[
            httpx.Response(200, json={"data": [record(1)], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": [record(2)], "next_cursor": None}),
        ]
    )
    listing = client.records.list()
    assert route.call_count == 0
    pages = list(listing.pages())
    assert [[r.id for r in page.data] for page in pages] == [[record_id(1)], [record_id(2)]]
    assert pages[-1].next_cursor is None


def test_a_cursor_that_does_not_move_ends_the_listing(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.get("/v1/records").mock(
        side_effect=[
            httpx.Response(200, json={"data": [record(1)], "next_cursor": "same"}),
            httpx.Response(200, json={"data": [record(2)], "next_cursor": "same"}),
        ]
    )
    assert [r.id for r in client.records.list()] == [record_id(1), record_id(2)]
    assert route.call_count == 2


def test_responses_keep_fields_the_sdk_does_not_know(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    api.get(f"/v1/records/{record_id(1)}").mock(
        return_value=httpx.Response(
            200,
            json=record(
                1,
                version=3,
                overdue_amount="6200.00",
                as_of="2026-01-31",
                events=[
                    {
                        "at": "2026-01-31T08:00:00Z",
                        "status": "current",
                        "version": 3,
                        "kind": "updated",
                    }
                ],
                risk_band="B",
            ),
        )
    )
    fetched = client.records.get(record_id(1))
    assert fetched.overdue_amount == Decimal("6200.00")
    assert fetched.as_of == date(2026, 1, 31)
    assert fetched.model_extra == {"risk_band": "B"}
    assert fetched.events and fetched.events[0].model_extra == {"kind": "updated"}


def test_numeric_ids_become_strings(client: RegistryClient, api: respx.MockRouter) -> None:
    api.get("/v1/records/7").mock(
        return_value=httpx.Response(200, json={"id": 7, "account_ref": "A"})
    )
    assert client.records.get("7").id == "7"


def test_withdraw_deletes_and_ids_cannot_escape_the_path(
    client: RegistryClient, api: respx.MockRouter
) -> None:
    route = api.delete(url__regex=r"/v1/records/.+").mock(return_value=httpx.Response(204))
    client.records.withdraw(record_id(1))
    client.records.withdraw("../admin/members")
    assert [call.request.url.raw_path for call in route.calls] == [
        f"/v1/records/{record_id(1)}".encode(),
        b"/v1/records/..%2Fadmin%2Fmembers",
    ]


@pytest.mark.asyncio
async def test_async_submit_and_list(api: respx.MockRouter) -> None:
    submit_route = api.post("/v1/records").mock(side_effect=echo_batch)
    api.get("/v1/records").mock(
        side_effect=[
            httpx.Response(200, json={"data": [record(1)], "next_cursor": "c2"}),
            httpx.Response(200, json={"data": [record(2)], "next_cursor": None}),
        ]
    )
    async with async_client() as client:
        result = await client.records.submit([item(n) for n in range(1500)])
        listed = [r.id async for r in client.records.list()]
    assert submit_route.call_count == 2
    assert [r.index for r in result.results] == list(range(1500))
    assert listed == [record_id(1), record_id(2)]
