"""The SDK's uploads, watches, alerts and webhook verification against the real service: the
blocking client and the `registry-client` command against a real server process, the async
client through the ASGI app with a real delivery to a local receiver."""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from registry_client import (
    AsyncRegistryClient,
    NotFound,
    PermissionDenied,
    RegistryClient,
    WebhookSignatureError,
    webhooks,
)
from registry_client.types import Alert, WatchBatchResult
from tests.factories import item, token
from tests.monitoring_support import Receiver
from tests.sdk.support import cli, member_env

MONITORED = ("records:write", "records:read", "monitor")
T = TypeVar("T")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields = sorted({name for row in rows for name in row})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_ndjson_gz(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def mixed_rows(prefix: str, subject: str) -> list[dict[str, Any]]:
    """Three good rows (the first on `subject`) and two bad ones, at lines 4 and 6 of the CSV."""
    return [
        item(subject, f"{prefix}-1"),
        item(token(), f"{prefix}-2"),
        item(token(), f"{prefix}-3", status="dpd_31_60", notice_sent_on=None),  # not notified
        item(token(), f"{prefix}-4", status="dpd_1_30"),
        item(token(), f"{prefix}-5", status="sideways"),
    ]


def client_of(env: dict[str, str]) -> RegistryClient:
    return RegistryClient(env["REGISTRY_URL"], env["REGISTRY_CLIENT_ID"], env["REGISTRY_CLIENT_SECRET"])


def eventually(read: Callable[[], T], seconds: float = 30) -> T:
    """The feed lists an alert once every transaction older than it has ended anywhere on the
    database server (docs/monitoring.md), so another open transaction may hold it back for a
    moment (longer on a loaded machine): read again until something comes or time is up."""
    deadline = time.monotonic() + seconds
    while not (result := read()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return result


def test_sdk_uploads_watches_and_alerts_against_a_live_server(live_server, tmp_path):
    lender_env, other_env = member_env(live_server, MONITORED), member_env(live_server, MONITORED)
    watched = token()
    with client_of(lender_env) as lender, client_of(other_env) as other:
        # A mixed CSV, gzipped on the fly: the good rows load, the bad ones are reported.
        source = write_csv(tmp_path / "book.csv", mixed_rows("SDK", watched))
        job = lender.uploads.upload(source, progress=False)
        assert (job.status, job.format, job.gzip, job.total_lines) == ("completed", "csv", True, 5)
        assert (job.created, job.updated, job.unchanged, job.rejected) == (3, 0, 0, 2)
        errors = list(lender.uploads.errors(job.id))
        assert [(e.line, e.account_ref, [x.field for x in e.errors]) for e in errors] == [
            (4, "SDK-3", ["notice_sent_on"]),
            (6, "SDK-5", ["status"]),
        ]
        assert lender.uploads.get(job.id).model_dump() == job.model_dump()
        assert job.id in [j.id for j in lender.uploads.list(page_size=5)]
        with pytest.raises(NotFound):
            other.uploads.get(job.id)
        with pytest.raises(NotFound):
            list(other.uploads.errors(job.id))
        again = lender.uploads.upload(source, progress=False, compress=False)
        assert (again.gzip, again.unchanged, again.rejected, again.created) == (False, 3, 2, 0)

        # Watch the borrower; nothing is in the feed yet.
        start = lender.alerts.iter()
        assert list(start) == [] and start.cursor
        assert lender.watches.add([watched], label="retail") == WatchBatchResult(created=1, existing=0)
        with pytest.raises(PermissionDenied):
            lender.watches.add([token()])  # no record of the lender's on it
        assert [(w.subject, w.label) for w in lender.watches.list()] == [(watched, "retail")]

        # Another member reports the borrower delinquent in a gzip NDJSON file sent as it is.
        report = write_ndjson_gz(
            tmp_path / "other.ndjson.gz",
            [item(watched, "OTHER-1", status="dpd_31_60", as_of="2026-11-15"), "{not json", item(token(), "OTHER-2")],
        )
        reported = other.uploads.upload(report, progress=False)
        assert (reported.status, reported.gzip, reported.created, reported.rejected) == ("completed", True, 2, 1)
        [bad_line] = other.uploads.errors(reported.id)
        assert (bad_line.line, bad_line.errors[0].field) == (2, "line")

        stream = lender.alerts.iter(after=start.cursor)
        alerts: list[Alert] = eventually(lambda: list(stream))
        assert [(a.subject, a.kind, a.status, a.label) for a in alerts] == [
            (watched, "new_delinquency", "dpd_31_60", "retail")
        ]
        assert list(other.alerts.iter()) == []  # the reporter is not alerted about itself
        # Resuming from the stream's cursor sees nothing twice.
        assert list(lender.alerts.iter(after=stream.cursor)) == []
        assert [a.id for a in lender.alerts.iter(after=start.cursor)] == [alerts[0].id]

        lender.watches.remove(watched)
        assert list(lender.watches.list()) == []
        with pytest.raises(NotFound):
            lender.watches.remove(watched)


def test_command_line_upload_watch_and_alerts(live_server, tmp_path):
    lender, other = member_env(live_server, MONITORED), member_env(live_server, MONITORED)
    watched = token()
    source = write_csv(tmp_path / "book.csv", mixed_rows("CLI", watched))
    report = tmp_path / "errors.ndjson"

    done = cli(lender, "upload", str(source), "--errors-out", str(report))
    assert done.returncode == 3, done.stdout + done.stderr  # done, with rejected lines
    # Rejected lines are never counted as accepted (nor as applied).
    job_id = re.match(r"upload (\S+) completed: 5 lines, 3 accepted ", done.stdout).group(1)
    assert "(created 3, updated 0, unchanged 0), 0 stale, 2 rejected" in done.stdout
    assert [json.loads(line)["line"] for line in report.read_text().splitlines()] == [4, 6]

    again = cli(lender, "upload", str(source))
    assert again.returncode == 3 and "unchanged 3" in again.stdout
    assert "registry-client uploads errors" in again.stderr
    fetched = cli(lender, "uploads", "errors", job_id)
    assert fetched.returncode == 0 and [json.loads(line)["account_ref"] for line in fetched.stdout.splitlines()] == [
        "CLI-3",
        "CLI-5",
    ]
    shown = cli(lender, "uploads", "show", job_id, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["rejected"] == 2

    added = cli(lender, "watch", "add", watched, "--label", "cli")
    assert added.returncode == 0 and "watching 1 new" in added.stdout, added.stderr
    listed = cli(lender, "watch", "list", "--json")
    assert [json.loads(line)["subject"] for line in listed.stdout.splitlines()] == [watched]

    gz = write_ndjson_gz(tmp_path / "other.ndjson.gz", [item(watched, "O-1", status="written_off", as_of="2026-11-15")])
    sent = cli(other, "upload", str(gz))
    assert sent.returncode == 0 and "created 1" in sent.stdout, sent.stderr

    read = eventually(lambda: (r := cli(lender, "alerts", "--json")).stdout and r)
    [alert] = [json.loads(line) for line in read.stdout.splitlines()]
    assert (alert["subject"], alert["kind"], alert["status"], alert["label"]) == (
        watched,
        "new_delinquency",
        "written_off",
        "cli",
    )
    cursor = re.fullmatch(r"cursor: (\S+)", read.stderr.strip()).group(1)
    resumed = cli(lender, "alerts", "--after", cursor)
    assert resumed.returncode == 0 and resumed.stdout == "" and resumed.stderr.strip() == f"cursor: {cursor}"

    removed = cli(lender, "watch", "remove", watched)
    assert removed.returncode == 0, removed.stderr
    assert cli(lender, "watch", "list", "--json").stdout == ""


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def test_async_sdk_upload_alert_and_a_verified_webhook_delivery(app, registry, receiver, tmp_path):
    watcher, reporter = await registry.member(), await registry.member()
    watched = token()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test") as h:

        def client(member):
            return AsyncRegistryClient(
                "http://registry.test", member.client.client_id, member.client.client_secret, http_client=h
            )

        w, r = client(watcher), client(reporter)
        book = tmp_path / "book.ndjson"
        book.write_text("".join(json.dumps(row) + "\n" for row in mixed_rows("ASY", watched)))
        job = await w.uploads.upload(book, progress=False)  # gzipped on the fly, read in a thread
        assert (job.status, job.gzip, job.created, job.rejected) == ("completed", True, 3, 2)
        assert [e.line async for e in w.uploads.errors(job.id)] == [3, 5]  # NDJSON: no header line

        assert (await w.watches.add([watched], label="async")).created == 1
        hook = await w.webhook.set(receiver.url)
        assert hook.secret and hook.secret.startswith("whsec_")
        try:
            sent = await r.uploads.upload(
                write_csv(tmp_path / "report.csv", [item(watched, "R-1", status="dpd_61_90", as_of="2026-11-15")]),
                progress=False,
            )
            assert (sent.status, sent.created) == ("completed", 1)
            alerts = []
            deadline = time.monotonic() + 30  # the feed may hold a fresh alert back (see `eventually`)
            while not (alerts := [a async for a in w.alerts.iter()]) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.25)  # polls another process's feed: no event to wait on
            [alert] = alerts
            assert (alert.subject, alert.kind, alert.status, alert.label) == (
                watched,
                "new_delinquency",
                "dpd_61_90",
                "async",
            )

            assert await app.state.runtime.deliveries.run_once() >= 1
            [got] = [d for d in receiver.received if d.headers.get("registry-event") == "alert"]
            signature = got.headers[webhooks.HEADER.lower()]
            event = webhooks.construct_event(got.body, signature, hook.secret)
            assert event.type == "alert" and event.alert == alert
            assert event.id == got.headers["registry-delivery"]
            with pytest.raises(WebhookSignatureError):
                webhooks.verify(got.body.replace(b"dpd_61_90", b"dpd_1_30"), signature, hook.secret)
            with pytest.raises(WebhookSignatureError):
                webhooks.verify(got.body, signature, "whsec_someone_elses_secret")
            [delivery] = [d async for d in w.webhook.deliveries()]
            assert (delivery.status, delivery.alert_id, delivery.last_status_code) == ("delivered", alert.id, 200)
        finally:
            await w.webhook.delete()
