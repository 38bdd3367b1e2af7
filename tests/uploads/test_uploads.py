"""Bulk uploads through the real app and database: outcomes per line equal POST /v1/records,
the error report, CSV and NDJSON, gzip, odd inputs, idempotency, audit, member isolation."""

from __future__ import annotations

import csv
import gzip
import io
import uuid
from typing import Any

import orjson
import pytest

from registry.uploads import service as upload_service
from tests.factories import item, submit, token

NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}
COLUMNS = [
    "subject",
    "subject_type",
    "account_ref",
    "product",
    "status",
    "collection_stage",
    "currency",
    "principal_amount",
    "outstanding_amount",
    "overdue_amount",
    "opened_on",
    "delinquent_since",
    "notice_sent_on",
    "closed_on",
    "as_of",
]


def ndjson(*items: Any) -> bytes:
    return b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in items)


def csv_file(items: list[dict[str, Any]], columns: list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for i in items:
        writer.writerow({k: i.get(k, "") for k in columns})
    return out.getvalue().encode()


async def post(http, member, body: bytes, headers: dict[str, str], **extra: str):
    return await http.post("/v1/uploads", content=body, headers={**member.headers, **headers, **extra})


async def error_report(http, member, job_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"/v1/uploads/{job_id}/errors", headers=member.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(line) for line in response.content.splitlines()]


def counts(job: dict[str, Any]) -> dict[str, int]:
    return {k: job[k] for k in ("created", "updated", "unchanged", "stale", "rejected")}


async def test_mixed_good_and_bad_lines_load_the_good_ones_and_report_the_bad(http, registry):
    member = await registry.member()
    subject = token()
    good = [item(subject, f"MIX-{n}") for n in range(5)]
    bad_status = item(subject, "MIX-BAD", status="dpd_31_60", delinquent_since=None, notice_sent_on=None)
    # Same item through POST /v1/records gives the messages the report must repeat.
    expected_reasons = (await submit(http, await registry.member(), bad_status)).json()["results"][0]["errors"]
    body = ndjson(
        good[0],
        good[1],
        b"{not json",
        bad_status,
        b"",
        good[2],
        [1, 2],
        good[3],
        {**item(subject, "MIX-EXTRA"), "colour": "red"},
        good[4],
    )
    response = await post(http, member, body, NDJSON)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/uploads/{job['id']}"
    assert job["status"] == "completed" and job["error"] is None
    assert counts(job) == {"created": 5, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 4}
    assert job["received_lines"] == job["total_lines"] == job["processed_lines"] == 9

    report = await error_report(http, member, job["id"])
    assert [(r["line"], r["account_ref"]) for r in report] == [(3, None), (4, "MIX-BAD"), (7, None), (9, "MIX-EXTRA")]
    assert report[0]["errors"][0]["field"] == "line" and report[0]["errors"][0]["message"].startswith("not valid JSON")
    assert report[1]["errors"] == expected_reasons
    assert report[2]["errors"] == [{"field": "item", "message": "each record must be a JSON object"}]
    assert report[3]["errors"] == [{"field": "colour", "message": "Extra inputs are not permitted"}]

    listed = (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    assert sorted(r["account_ref"] for r in listed) == [f"MIX-{n}" for n in range(5)]
    again = (await http.get(f"/v1/uploads/{job['id']}", headers=member.headers)).json()
    assert again == job


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_csv_and_ndjson_plain_and_gzip_then_reupload_is_unchanged(http, registry, fmt, compressed):
    member = await registry.member()
    subject = token()
    items = [item(subject, f"F-{n}") for n in range(3)] + [
        item(subject, "F-DPD", status="dpd_61_90", overdue_amount="120.50", closed_on=None)
    ]
    body = csv_file(items) if fmt == "csv" else ndjson(*items)
    headers = dict(CSV if fmt == "csv" else NDJSON)
    if compressed:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    first = await post(http, member, body, headers)
    assert first.status_code == 202, first.text
    assert counts(first.json()) == {"created": 4, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}
    assert first.json()["format"] == fmt and first.json()["gzip"] is compressed

    second = (await post(http, member, body, headers)).json()
    assert second["id"] != first.json()["id"]
    assert counts(second) == {"created": 0, "updated": 0, "unchanged": 4, "stale": 0, "rejected": 0}

    # The stored records are what POST /v1/records would have stored: the same content hash
    # makes the same items sent as a batch `unchanged` too.
    batch = (await submit(http, member, *items)).json()
    assert batch["summary"]["unchanged"] == 4


async def test_outcomes_equal_the_batch_endpoint_and_lines_apply_in_file_order(http, registry, monkeypatch):
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 3)  # several chunks, one boundary mid-file
    member = await registry.member()
    subject = token()
    await submit(
        http, member, item(subject, "ORD-OLD", as_of="2026-10-31"), item(subject, "ORD-UPD", as_of="2026-09-30")
    )
    body = ndjson(
        item(subject, "ORD-OLD", as_of="2026-08-31"),  # stale
        item(subject, "ORD-UPD", as_of="2026-10-31"),  # updated
        item(subject, "ORD-DUP", as_of="2026-09-30"),  # created
        item(subject, "ORD-DUP", as_of="2026-10-31", status="settled"),  # updated: applied after the line above
        item(subject, "ORD-DUP", as_of="2026-10-31", status="settled"),  # unchanged
        item(subject, "ORD-DUP", as_of="2026-07-31"),  # stale
        item(subject, "ORD-NEW"),  # created
    )
    job = (await post(http, member, body, NDJSON)).json()
    assert counts(job) == {"created": 2, "updated": 2, "unchanged": 1, "stale": 2, "rejected": 0}
    records = {
        r["account_ref"]: r
        for r in (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    }
    assert records["ORD-DUP"]["status"] == "settled" and records["ORD-DUP"]["version"] == 2
    assert records["ORD-OLD"]["as_of"] == "2026-10-31"
    detail = (await http.get(f"/v1/records/{records['ORD-DUP']['id']}", headers=member.headers)).json()
    assert [e["kind"] for e in detail["events"]] == ["created", "updated"]


async def test_one_audit_row_per_upload_with_its_counts(http, registry):
    member = await registry.member()
    subject = token()
    job = (await post(http, member, ndjson(item(subject), b"[]"), NDJSON)).json()
    rows = await registry.audit_rows(action="records.upload", member_id=member.id)
    assert len(rows) == 1
    assert rows[0]["resource"] == f"upload:{job['id']}" and rows[0]["outcome"] == 202
    assert rows[0]["details"] == {
        "status": "completed",
        "lines": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "rejected": 1,
    }


async def test_idempotency_key_answers_with_the_first_job(http, registry):
    member = await registry.member()
    body = ndjson(item(token(), "IDEM-1"))
    key = {"Idempotency-Key": f"upload-{uuid.uuid4()}"}
    first = await post(http, member, body, NDJSON, **key)
    replay = await post(http, member, body, NDJSON, **key)
    assert replay.status_code == 202 and replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    jobs = (await http.get("/v1/uploads", headers=member.headers)).json()["data"]
    assert [j["id"] for j in jobs] == [first.json()["id"]]
    # Another format under the same key is another request.
    other = await post(http, member, b"subject\n", CSV, **key)
    assert other.status_code == 422 and "different request" in other.json()["detail"]


async def test_another_members_job_is_not_found(http, registry):
    owner, other = await registry.member(), await registry.member()
    job = (await post(http, owner, ndjson(b"oops"), NDJSON)).json()
    assert (await http.get(f"/v1/uploads/{job['id']}", headers=other.headers)).status_code == 404
    assert (await http.get(f"/v1/uploads/{job['id']}/errors", headers=other.headers)).status_code == 404
    assert (await http.get("/v1/uploads", headers=other.headers)).json()["data"] == []
    assert (await http.get(f"/v1/uploads/{uuid.uuid4()}", headers=owner.headers)).status_code == 404


async def test_list_is_paginated_newest_first(http, registry):
    member = await registry.member()
    ids = [(await post(http, member, ndjson(item(token())), NDJSON)).json()["id"] for _ in range(3)]
    page = (await http.get("/v1/uploads", headers=member.headers, params={"limit": 2})).json()
    rest = (await http.get("/v1/uploads", headers=member.headers, params={"cursor": page["next_cursor"]})).json()
    assert [j["id"] for j in page["data"] + rest["data"]] == ids[::-1] and rest["next_cursor"] is None


async def test_scope_and_authentication(http, registry):
    reader = await registry.member(scopes=["records:read"])
    assert (await post(http, reader, ndjson(item(token())), NDJSON)).status_code == 403
    anonymous = await http.post("/v1/uploads", content=ndjson(item(token())), headers=NDJSON)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("body", "headers", "status", "fragment"),
    [
        (b"", NDJSON, 422, "no records"),
        (b"\n  \n", NDJSON, 422, "no records"),
        (",".join(COLUMNS).encode() + b"\n", CSV, 422, "no records"),
        (b"subject,account_ref,colour\nx,y,z\n", CSV, 422, "header"),
        (b"subject,subject\n", CSV, 422, "header"),
        (gzip.compress(b"not gzip")[:5] + b"garbage-garbage", {**NDJSON, "Content-Encoding": "gzip"}, 422, "gzip"),
        (b"plain text, not gzip\n", {**NDJSON, "Content-Encoding": "gzip"}, 422, "gzip"),
        (b'{"a": 1}\n', {"Content-Type": "application/json"}, 415, "text/csv"),
        (b'{"a": 1}\n', {}, 415, "text/csv"),
        (b'{"a": 1}\n', {**NDJSON, "Content-Encoding": "br"}, 415, "gzip"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "unknown-column",
        "repeated-column",
        "bad-gzip-header",
        "not-gzip",
        "json",
        "no-type",
        "brotli",
    ],
)
async def test_inputs_refused_at_once_leave_no_job(http, registry, body, headers, status, fragment):
    member = await registry.member()
    response = await post(http, member, body, headers)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in (problem["detail"] + " ".join(e["message"] for e in problem["errors"]))
    assert (await http.get("/v1/uploads", headers=member.headers)).json()["data"] == []
    rows = await registry.audit_rows(action="records.upload", member_id=member.id)
    assert [r["outcome"] for r in rows] == [status]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_a_binary_body_names_its_format_in_the_query(http, registry, fmt):
    """What generated clients send: the OpenAPI document describes the file as bytes."""
    member = await registry.member()
    items = [item(token()), item(token())]
    body = csv_file(items) if fmt == "csv" else ndjson(*items)
    headers = {**member.headers, "Content-Type": "application/octet-stream"}
    response = await http.post(f"/v1/uploads?format={fmt}", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert (response.json()["format"], response.json()["created"]) == (fmt, 2)


@pytest.mark.parametrize(
    ("url", "content_type", "field"),
    [
        ("/v1/uploads", "application/octet-stream", "Content-Type"),  # bytes, but of which format?
        ("/v1/uploads?format=ndjson", "text/csv", "format"),  # the two disagree
        ("/v1/uploads?format=xml", "application/octet-stream", "format"),
    ],
)
async def test_a_format_that_is_missing_or_contradicts_the_media_type_is_refused(
    http, registry, url, content_type, field
):
    member = await registry.member()
    response = await http.post(
        url, content=ndjson(item(token())), headers={**member.headers, "Content-Type": content_type}
    )
    assert response.status_code in (415, 422), response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await http.get("/v1/uploads", headers=member.headers)).json()["data"] == []


async def test_missing_csv_column_names_it(http, registry):
    member = await registry.member()
    response = await post(http, member, csv_file([item(token())], [c for c in COLUMNS if c != "as_of"]), CSV)
    assert response.status_code == 422
    assert {"field": "header", "message": "missing column: as_of"} in response.json()["errors"]


async def test_odd_csv_lines_are_rejected_alone(http, registry):
    member = await registry.member()
    subject = token()
    good = csv_file([item(subject, "CSV-1"), item(subject, "CSV-2")])
    header, first, second = good.split(b"\r\n")[:3]
    body = b"\r\n".join([header, first, b'a,"unterminated', b"too,few", b"\xff\xfe,bad utf8", second]) + b"\r\n"
    job = (await post(http, member, body, CSV)).json()
    assert counts(job) == {"created": 2, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 3}
    report = await error_report(http, member, job["id"])
    assert [r["line"] for r in report] == [3, 4, 5]
    messages = [r["errors"][0]["message"] for r in report]
    assert messages[0].startswith("not a valid CSV line")
    assert messages[1] == f"expected {len(COLUMNS)} cells, found 2"
    assert messages[2] == "not valid UTF-8"


async def test_gzip_broken_mid_file_fails_the_job_keeping_committed_chunks(http, registry, monkeypatch):
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 2)
    member = await registry.member()
    subject = token()
    whole = gzip.compress(ndjson(*[item(subject, f"GZ-{n}") for n in range(400)]), compresslevel=0)
    truncated = whole[: len(whole) // 2]
    response = await post(http, member, truncated, {**NDJSON, "Content-Encoding": "gzip"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "failed" and "truncated" in job["error"]
    assert 0 < job["processed_lines"] < 400 and job["total_lines"] is None
    assert job["created"] == job["processed_lines"]
    # The full file finishes the work; what was applied comes back unchanged.
    again = (await post(http, member, whole, {**NDJSON, "Content-Encoding": "gzip"})).json()
    assert again["status"] == "completed"
    assert again["unchanged"] == job["processed_lines"] and again["created"] == 400 - job["processed_lines"]


async def test_overlong_line_is_rejected_and_the_rest_loads(http, registry):
    member = await registry.member()
    subject = token()
    body = ndjson(item(subject, "LONG-1"), b'{"x": "' + b"y" * 70_000 + b'"}', item(subject, "LONG-2"))
    job = (await post(http, member, body, NDJSON)).json()
    assert counts(job) == {"created": 2, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 1}
    assert (await error_report(http, member, job["id"]))[0]["errors"][0]["message"] == "longer than 65536 bytes"


async def test_connection_dropped_mid_file_fails_the_job_and_frees_its_key(app, http, registry, monkeypatch):
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 2)
    member = await registry.member()
    subject = token()
    key = f"drop-{uuid.uuid4()}"
    first_part = ndjson(*[item(subject, f"DROP-{n}") for n in range(5)])
    messages = [
        {"type": "http.request", "body": first_part, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [
        (k.lower().encode(), v.encode()) for k, v in {**member.headers, **NDJSON, "Idempotency-Key": key}.items()
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/uploads",
        "raw_path": b"/v1/uploads",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("registry.test", 80),
    }
    await app(scope, receive, send)
    jobs = (await http.get("/v1/uploads", headers=member.headers)).json()["data"]
    assert len(jobs) == 1
    job = jobs[0]
    assert job["status"] == "failed" and "interrupted" in job["error"]
    assert job["processed_lines"] == job["created"] == 4  # two whole chunks; the fifth line was never applied
    # The key was released: the retry with the same key is a new upload, finding earlier lines unchanged.
    retry = (await post(http, member, first_part, NDJSON, **{"Idempotency-Key": key})).json()
    assert retry["id"] != job["id"] and (retry["unchanged"], retry["created"]) == (4, 1)


async def test_a_chunk_that_fails_to_write_fails_the_job_keeping_committed_chunks(http, registry, monkeypatch):
    """The writer runs ahead of validation: its failure must stop the upload (not leave the
    reader waiting on a full queue) and keep the chunks committed before it."""
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 3)
    apply_counted = upload_service.records_service.apply_counted
    calls = 0

    async def failing_third_chunk(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the database went away")
        return await apply_counted(*args, **kwargs)

    monkeypatch.setattr(upload_service.records_service, "apply_counted", failing_third_chunk)
    member = await registry.member()
    subject = token()
    with pytest.raises(RuntimeError, match="went away"):
        await post(http, member, ndjson(*[item(subject, f"FAIL-{n}") for n in range(60)]), NDJSON)
    job = (await http.get("/v1/uploads", headers=member.headers)).json()["data"][0]
    assert job["status"] == "failed" and "upload it again" in job["error"]
    assert job["processed_lines"] == job["created"] == 6
    stored = await registry.pool.fetchval("SELECT count(*) FROM records WHERE member_id = $1", member.id)
    assert stored == 6


async def test_an_amount_beyond_the_decimal_range_is_a_rejected_line(http, registry):
    """1E+999999 is a finite decimal that overflowed when scaled to minor units: the whole
    upload failed with a 500. It is one rejected line now."""
    member = await registry.member()
    subject = token()
    body = ndjson(item(subject, "HUGE-1", principal_amount="1E+999999"), item(subject, "HUGE-2"))
    response = await post(http, member, body, NDJSON)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "completed" and counts(job)["created"] == 1 and counts(job)["rejected"] == 1
    report = await error_report(http, member, job["id"])
    assert report == [
        {"line": 1, "account_ref": "HUGE-1", "errors": [{"field": "principal_amount", "message": "amount too large"}]}
    ]


async def test_a_reupload_leaves_unchanged_records_unwritten(http, registry, monkeypatch):
    """Lines the registry already holds are skipped before the upsert: their records are not
    even locked (an `ON CONFLICT DO UPDATE ... WHERE` that declines still writes the row's
    lock), so a re-upload of a monthly file costs reads, not writes. A withdrawn record, a
    changed line and a stale one keep their outcomes."""
    monkeypatch.setattr(upload_service, "CHUNK_LINES", 3)  # the skip runs in several chunks
    member = await registry.member()
    subject = token()
    items = [item(subject, f"RE-{n}") for n in range(5)]
    first = (await post(http, member, ndjson(*items), NDJSON)).json()
    assert counts(first) == {"created": 5, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}

    def stored():
        return registry.pool.fetch(
            "SELECT account_ref, xmin::text, xmax::text, version FROM records WHERE member_id = $1 ORDER BY 1",
            member.id,
        )

    before = await stored()
    again = (await post(http, member, ndjson(*items), NDJSON)).json()
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": 5, "stale": 0, "rejected": 0}
    assert await stored() == before

    listed = (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    withdrawn = next(r for r in listed if r["account_ref"] == "RE-0")
    assert (await http.delete(f"/v1/records/{withdrawn['id']}", headers=member.headers)).status_code == 200
    body = ndjson(
        items[0],  # same content, but withdrawn: applied again
        {**items[1], "outstanding_amount": "1.00"},  # changed: updated
        {**items[2], "as_of": "2026-01-31"},  # older than the stored report: stale
        items[3],
        items[4],
    )
    third = (await post(http, member, body, NDJSON)).json()
    assert counts(third) == {"created": 0, "updated": 2, "unchanged": 2, "stale": 1, "rejected": 0}
    records = {
        r["account_ref"]: r
        for r in (await http.get("/v1/records", headers=member.headers, params={"subject": subject})).json()["data"]
    }
    assert records["RE-0"]["withdrawn_at"] is None and records["RE-1"]["outstanding_amount"] == "1.00"
    assert records["RE-2"]["as_of"] == "2026-10-31"
