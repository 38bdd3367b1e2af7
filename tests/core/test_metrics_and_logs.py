"""Observability: /metrics counts requests by route template (never a raw id) and the domain
counters move with the work; log lines are JSON with the request id and never a token or
secret; and a real `registry serve --workers 2` reports the requests of both workers."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from registry.config import LogFormat, Settings
from registry.core.logging import JsonFormatter, TextFormatter, log_config
from tests.factories import item, submit, token
from tests.servers import registry_env, serve


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_never_by_raw_path(http, registry):
    member = await registry.member()
    record_id, stray = uuid.uuid4(), uuid.uuid4()
    labels = {"method": "GET", "route": "/v1/records/{record_id}", "status": "404"}
    before = sample(await scrape(http), "registry_http_requests_total", **labels)
    unmatched_before = sample(await scrape(http), "registry_http_requests_total", route="unmatched", status="404")

    assert (await http.get(f"/v1/records/{record_id}", headers=member.headers)).status_code == 404
    assert (await http.get(f"/no/such/{stray}")).status_code == 404

    text = await scrape(http)
    assert sample(text, "registry_http_requests_total", **labels) == before + 1
    assert sample(text, "registry_http_request_duration_seconds_count", **labels) >= 1
    assert sample(text, "registry_http_requests_total", route="unmatched", status="404") == unmatched_before + 1
    assert str(record_id) not in text and str(stray) not in text
    routes = {s.labels["route"] for f in text_string_to_metric_families(text) for s in f.samples if "route" in s.labels}
    assert all(r == "unmatched" or r.startswith("/") for r in routes)
    assert not any(part.count("-") == 4 for r in routes for part in r.split("/"))  # no uuid in any label


async def test_domain_counters_move_with_the_work(http, registry):
    reporter, asker = await registry.member(), await registry.member()
    subject = token()
    text = await scrape(http)
    created, rejected = (sample(text, "registry_records_total", outcome=o) for o in ("created", "rejected"))
    asked = sample(text, "registry_exposure_subjects_total", purpose="loan_application")
    lines_created, lines_rejected = (
        sample(text, "registry_upload_lines_total", outcome=o) for o in ("created", "rejected")
    )

    r = await submit(
        http, reporter, item(subject, "OBS-1"), item(token(), "OBS-2", status="dpd_1_30", notice_sent_on=None)
    )
    assert r.json()["summary"]["created"] == 1 and r.json()["summary"]["rejected"] == 1
    body = {"subjects": [subject, token()], "purpose": "loan_application", "consent_ref": "C-OBS"}
    assert (await http.post("/v1/exposure", json=body, headers=asker.headers)).status_code == 200
    upload = b"\n".join(orjson.dumps(line) for line in (item(token(), "OBS-U1"), item(token(), "OBS-U2"), {"x": 1}))
    uploaded = await http.post(
        "/v1/uploads", content=upload, headers={**reporter.headers, "Content-Type": "application/x-ndjson"}
    )
    assert uploaded.status_code == 202 and uploaded.json()["status"] == "completed", uploaded.text

    text = await scrape(http)
    assert sample(text, "registry_records_total", outcome="created") == created + 1
    assert sample(text, "registry_records_total", outcome="rejected") == rejected + 1
    assert sample(text, "registry_exposure_subjects_total", purpose="loan_application") == asked + 2
    assert sample(text, "registry_upload_lines_total", outcome="created") == lines_created + 2
    assert sample(text, "registry_upload_lines_total", outcome="rejected") == lines_rejected + 1


async def test_metrics_can_be_turned_off(settings):
    from registry.app import create_app

    for enabled, status in ((False, 404), (True, 200)):
        app = create_app(settings.model_copy(update={"metrics_enabled": enabled}))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test") as client:
            assert (await client.get("/metrics")).status_code == status  # needs no lifespan: nothing is started


@pytest.fixture
def captured_logs():
    """Every `registry.*` line at INFO, formatted as `registry serve` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("registry")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_a_request_log_line_is_json_with_the_request_id_and_no_secret(http, registry, captured_logs):
    member = await registry.member()
    subject = token()
    bearer = member.headers["Authorization"].removeprefix("Bearer ")
    headers = {**member.headers, "X-Request-ID": "obs-test-0001"}
    response = await http.get(f"/v1/records?subject={subject}", headers=headers)
    assert response.status_code == 200
    await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(member.client.client_id, member.client.client_secret),
        headers={"X-Request-ID": "obs-test-0002"},
    )

    output = captured_logs.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    access = next(
        line for line in lines if line["request_id"] == "obs-test-0001" and line["logger"] == "registry.access"
    )
    assert access["method"] == "GET" and access["route"] == "/v1/records" and access["status"] == 200
    assert access["duration_ms"] >= 0 and access["level"] == "INFO" and access["time"].endswith("+00:00")
    assert any(line["request_id"] == "obs-test-0002" and line["route"] == "/oauth/token" for line in lines)
    for secret in (bearer, subject, member.client.client_secret, "subject="):
        assert secret not in output


def test_fields_named_like_secrets_or_amounts_are_redacted():
    record = logging.makeLogRecord(
        {
            "name": "registry.x",
            "levelname": "INFO",
            "levelno": 20,
            "msg": "done",
            "client_secret": "brs_shh",
            "overdue_amount": "700.00",
            "count": 3,
        }
    )
    as_json = json.loads(JsonFormatter().format(record))
    assert as_json["client_secret"] == as_json["overdue_amount"] == "[redacted]" and as_json["count"] == 3
    as_text = TextFormatter().format(record)
    assert "brs_shh" not in as_text and "700.00" not in as_text and "count=3" in as_text


def test_text_format_is_chosen_by_setting(tmp_path):
    config = log_config(Settings(log_format=LogFormat.text, data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]
    assert config["formatters"]["default"]["()"].endswith("TextFormatter")
    assert config["loggers"]["uvicorn.access"]["propagate"] is False


def _healthz_by_worker(metrics_dir: Path) -> dict[str, float]:
    """Per process, /healthz requests counted in its own metric file (what /metrics sums)."""
    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.split("_")[-1]
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if name == "registry_http_requests_total" and labels.get("route") == "/healthz":
                counts[pid] = counts.get(pid, 0) + value
    return counts


@pytest.mark.slow
def test_serve_with_two_workers_reports_every_workers_requests(database_url, tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "metrics").mkdir(parents=True)
    (data_dir / "metrics" / "counter_1.db").write_bytes(b"left by an earlier run")  # emptied at start
    env = registry_env(data_dir, database_url)
    log_path = tmp_path / "server.log"
    secret_header = "Bearer " + "f" * 64
    with serve(env, log_path, "--no-migrate", "--workers", "2") as server:
        base = server.url
        assert not (data_dir / "metrics" / "counter_1.db").exists()

        async def burst(n: int) -> None:  # concurrent fresh connections, so both workers accept some
            async def one() -> None:
                async with httpx.AsyncClient() as client:
                    r = await client.get(base + "/healthz", headers={"Authorization": secret_header})
                    assert r.status_code == 200

            await asyncio.gather(*(one() for _ in range(n)))

        sent = 0
        while len([n for n in _healthz_by_worker(data_dir / "metrics").values() if n > 0]) < 2:
            assert sent < 2000, "every request went to one worker"
            asyncio.run(burst(50))
            sent += 50
        per_worker = _healthz_by_worker(data_dir / "metrics")
        assert sum(per_worker.values()) == sent
        for _ in range(4):  # whichever worker answers the scrape reports both
            text = httpx.get(base + "/metrics").text
            assert sample(text, "registry_http_requests_total", method="GET", route="/healthz", status="200") == sent
    output = log_path.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # server logs too are JSON
    assert {"uvicorn.error", "registry.access"} <= {line["logger"] for line in lines}
    access = [line for line in lines if line["logger"] == "registry.access" and line["route"] == "/healthz"]
    assert len(access) == sent and all(line["request_id"] for line in access)
    assert "f" * 64 not in output
