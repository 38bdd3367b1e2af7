"""The adversarial review's findings on uploads (issue 12, "Crashes and stalls" 1-4),
reproduced through the in-process app and a real database: a NUL in a rejected line, a gzip
of blank lines that stalled the worker, error rows that amplified a tiny gzip into hundreds
of megabytes, and dates in year 1. Each test failed before its fix."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
import pytest

from registry.records.schemas import RecordItem
from registry.uploads import service as upload_service
from tests.factories import item, submit, token

pytestmark = pytest.mark.attack

T = TypeVar("T")

NDJSON = {"Content-Type": "application/x-ndjson"}
NDJSON_GZIP = {**NDJSON, "Content-Encoding": "gzip"}
CSV_GZIP = {"Content-Type": "text/csv", "Content-Encoding": "gzip"}
HEADER = b"subject,subject_type,account_ref,product,status,principal_amount,outstanding_amount,as_of\n"


def ndjson(*items: Any) -> bytes:
    return b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in items)


def csv_line(values: dict[str, Any]) -> bytes:
    out = io.StringIO()
    columns = HEADER.decode().strip().split(",")
    csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore").writerow(values)
    return out.getvalue().encode()


async def post(http, member, body: bytes, headers: dict[str, str]):
    return await http.post("/v1/uploads", content=body, headers={**member.headers, **headers})


async def report(http, member, job_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"/v1/uploads/{job_id}/errors", headers=member.headers)
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.content.splitlines()]


@pytest.fixture
def limits(app):
    """Change the upload settings of the running app for one test: `limits(upload_max_…=…)`."""
    runtime = app.state.runtime
    original = runtime.settings

    def change(**values: Any) -> None:
        runtime.settings = original.model_copy(update=values)

    yield change
    runtime.settings = original


async def worst_wait(http, work: Awaitable[T], interval: float = 0.005) -> tuple[T, float, int]:
    """Run `work` while GET /readyz (one database round trip) is asked every `interval`:
    its result, the longest time a probe answered after it was due, and how many probes ran.
    Measured from when a probe was due, so a loop held while the prober sleeps counts too."""
    done = False
    waits: list[float] = []

    async def probe() -> None:
        due = time.perf_counter()
        while not done:
            response = await http.get("/readyz")
            answered = time.perf_counter()
            assert response.status_code == 200, response.text
            waits.append(answered - due)
            due = answered + interval
            await asyncio.sleep(interval)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.05)  # probes are running when the upload starts
    try:
        result = await work
    finally:
        done = True
        await prober
    return result, max(waits), len(waits)


# 1. A NUL in a rejected line ------------------------------------------------------------


@pytest.mark.parametrize("where", ["ndjson-account-ref", "ndjson-key", "ndjson-value", "csv-cell"])
async def test_a_nul_in_a_rejected_line_rejects_that_line_alone(http, registry, where):
    """Was: the rejected line's account_ref went to the error table as it was, PostgreSQL
    refused the NUL, the upload answered 500, the valid lines of its chunk were lost, and the
    request left two audit rows (202 and 500)."""
    member = await registry.member()
    subject = token()
    good = [item(subject, f"NUL-{n}") for n in range(4)]
    bad = {
        "ndjson-account-ref": item(subject, "NUL\x00REF"),
        "ndjson-key": {**item(subject, "NUL-KEY"), "col\x00our": "red"},
        "ndjson-value": item(subject, "NUL-VALUE", currency="CN\x00"),
        "csv-cell": item(subject, "NUL\x00REF"),
    }[where]
    if where == "csv-cell":
        body = HEADER + b"".join(csv_line(i) for i in [good[0], good[1], bad, good[2], good[3]])
        headers = {"Content-Type": "text/csv"}
        bad_line = 4
    else:
        body = ndjson(good[0], good[1], bad, good[2], good[3])
        headers = NDJSON
        bad_line = 3
    assert b"\\u0000" in body or b"\x00" in body

    response = await post(http, member, body, headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "completed" and job["error"] is None
    assert (job["created"], job["rejected"]) == (4, 1)
    [rejected] = await report(http, member, job["id"])
    assert rejected["line"] == bad_line
    assert rejected["errors"] == [{"field": "item", "message": "strings must not contain NUL characters"}]
    assert "\x00" not in (rejected["account_ref"] or "")
    if "REF" in bad["account_ref"]:
        assert rejected["account_ref"] == "NUL\ufffdREF"  # shown, with the NUL replaced
    rows = await registry.audit_rows(action="records.upload", member_id=member.id)
    assert [r["outcome"] for r in rows] == [202]


@pytest.mark.fault
async def test_a_failure_mid_upload_is_audited_once_with_its_500(http, registry, monkeypatch):
    """Was: the job's end wrote a 202 audit row, then the error handler a 500 one."""
    apply_counted = upload_service.records_service.apply_counted

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(upload_service.records_service, "apply_counted", failing)
    member = await registry.member()
    with pytest.raises(RuntimeError, match="went away"):
        await post(http, member, ndjson(item(token(), "ONCE-1")), NDJSON)
    monkeypatch.setattr(upload_service.records_service, "apply_counted", apply_counted)
    rows = await registry.audit_rows(action="records.upload", member_id=member.id)
    assert [r["outcome"] for r in rows] == [500]
    assert rows[0]["details"]["status"] == "failed"


# 2. Blank lines stalled the service ------------------------------------------------------


async def test_a_gzip_of_blank_lines_fails_fast_and_the_worker_keeps_answering(http, registry):
    """Was: a header and then blank lines were read to the end before the job existed, with
    no yield to the event loop: 32 KB sent held /readyz for 29 s."""
    member = await registry.member()
    body = gzip.compress(HEADER + b"\n" * (16 * 2**20))
    started = time.perf_counter()
    response, worst, probes = await worst_wait(http, post(http, member, body, CSV_GZIP))
    took = time.perf_counter() - started
    assert response.status_code == 422, response.text
    assert "blank or rejected" in response.json()["detail"]
    assert took < 5 and worst < 1.0, (took, worst, probes)
    assert (await http.get("/v1/uploads", headers=member.headers)).json()["data"] == []


@pytest.mark.parametrize("fmt", ["csv-head", "ndjson-body"])
async def test_parsing_yields_on_bytes_read_not_on_lines_kept(http, registry, limits, fmt):
    """With the share rule off, a long run of blank lines is read to the end; meanwhile the
    same worker answers /readyz promptly (the reader hands the loop back every millisecond)."""
    limits(upload_max_bad_line_share=1.0)
    member = await registry.member()
    blanks = b"\n" * (4 * 2**20)
    if fmt == "csv-head":
        body, headers = gzip.compress(HEADER + blanks), CSV_GZIP
    else:
        body, headers = gzip.compress(ndjson(item(token(), "YIELD-1")) + blanks), NDJSON_GZIP
    started = time.perf_counter()
    response, worst, probes = await worst_wait(http, post(http, member, body, headers))
    took = time.perf_counter() - started
    if fmt == "csv-head":
        assert response.status_code == 422 and "no records" in response.json()["detail"], response.text
    else:
        assert response.status_code == 202 and response.json()["created"] == 1, response.text
    assert probes >= 10, (took, probes)  # the upload lasted long enough to be probed
    assert worst < 0.5, (took, worst, probes)


async def test_a_gzip_that_grows_past_the_limit_fails_the_job_saying_why(http, registry, limits):
    limits(upload_max_decompressed_bytes=2**20)
    member = await registry.member()
    lines = [item(token(), f"BIG-{n}") for n in range(6000)]  # ~1.9 MB
    response = await post(http, member, gzip.compress(ndjson(*lines)), NDJSON_GZIP)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "failed"
    assert "larger than 1,048,576 bytes once decompressed" in job["error"]
    assert job["total_lines"] is None and job["processed_lines"] < 6000


async def test_a_gzip_past_the_limit_before_its_first_record_is_refused(http, registry, limits):
    limits(upload_max_decompressed_bytes=2**20, upload_max_bad_line_share=1.0)
    member = await registry.member()
    response = await post(http, member, gzip.compress(HEADER + b"\n" * (2 * 2**20)), CSV_GZIP)
    assert response.status_code == 422, response.text
    assert "once decompressed" in response.json()["detail"]


async def test_mostly_rejected_lines_fail_the_job_once_enough_are_read(http, registry):
    member = await registry.member()
    body = gzip.compress(ndjson(item(token(), "SHARE-1")) + b"x\n" * 50_000)
    response = await post(http, member, body, NDJSON_GZIP)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "failed"
    assert job["error"].startswith("Stopped at line 10000: 9999 of the first 10000 lines are blank or rejected")
    assert job["created"] == 1 and job["processed_lines"] == 5000  # the first chunk stays applied


# 3. Error rows amplified storage ---------------------------------------------------------


async def test_a_million_bad_lines_store_a_bounded_report_and_count_them_all(http, registry, limits):
    """Was: 2 KB of gzip (a million lines of `x`) wrote 167 MB of error rows."""
    limits(upload_max_bad_line_share=1.0)
    member = await registry.member()
    body = gzip.compress(b"x\n" * 1_000_000)
    assert len(body) < 10_000
    response = await post(http, member, body, NDJSON_GZIP)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "completed" and job["rejected"] == job["processed_lines"] == 1_000_000
    rows, size = await registry.pool.fetchrow(
        "SELECT count(*), coalesce(sum(pg_column_size(e.*)), 0) FROM upload_errors e WHERE job_id = $1", job["id"]
    )
    assert rows == 10_001 and size < 3_000_000, (rows, size)
    lines = await report(http, member, job["id"])
    assert [r["line"] for r in lines] == list(range(1, 10_002))
    assert lines[0]["errors"][0]["message"].startswith("not valid JSON")
    assert lines[-1]["errors"][0]["field"] == "report"
    assert "keeps the first 10000 rejected lines" in lines[-1]["errors"][0]["message"]


async def test_what_is_kept_of_one_rejected_line_is_bounded(http, registry):
    member = await registry.member()
    many_keys = {f"extra_{n}": n for n in range(60)}
    body = ndjson({**item(token(), "R" * 60_000), "x" * 1000: 1}, many_keys)
    job = (await post(http, member, body, NDJSON)).json()
    assert job["rejected"] == 2
    long_ref, many = await report(http, member, job["id"])
    assert long_ref["account_ref"] == "R" * 64 + "…"
    assert {"field": "x" * 64 + "…", "message": "Extra inputs are not permitted"} in long_ref["errors"]
    assert len(many["errors"]) == 17  # 8 missing fields and 60 unknown ones: 16 kept, then a count
    assert many["errors"][-1] == {"field": "line", "message": "52 more reasons left out"}


async def test_an_item_of_thousands_of_keys_is_refused_with_one_reason(http, registry):
    """Was: a 64 KiB line of 6 500 keys was reported key by key, holding the worker for tens
    of milliseconds for that line alone (and storing 6 500 reasons)."""
    member = await registry.member()
    crowded = {**item(token(), "CROWDED"), **{f"k{n}": 1 for n in range(6500)}}
    fields = len(RecordItem.model_fields)
    reason = {
        "field": "item",
        "message": f"6511 fields: a record item has at most {fields}, and one with more than 64 is not read",
    }
    assert (await submit(http, member, crowded)).json()["results"][0]["errors"] == [reason]
    job = (await post(http, member, ndjson(crowded), NDJSON)).json()
    assert (await report(http, member, job["id"]))[0]["errors"] == [reason]


# 4. Dates before 1900 -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["opened_on", "delinquent_since", "notice_sent_on", "closed_on", "as_of"])
async def test_dates_before_1900_are_refused_naming_the_field(http, registry, field):
    """Was: 0001-01-01 was accepted as opened_on. Both write paths share the item rules."""
    member = await registry.member()
    subject = token()
    early = item(subject, f"EARLY-{field}", **{field: "0001-01-01"})
    floor = {"field": field, "message": "must not be before 1900-01-01"}
    batch = (await submit(http, member, early)).json()["results"][0]
    assert batch["outcome"] == "rejected" and floor in batch["errors"]
    job = (await post(http, member, ndjson(early), NDJSON)).json()
    assert job["rejected"] == 1 and floor in (await report(http, member, job["id"]))[0]["errors"]
    on_the_floor = (await submit(http, member, item(subject, f"FLOOR-{field}", opened_on="1900-01-01"))).json()
    assert on_the_floor["summary"]["created"] == 1
