"""The SDK and the `registry-client` command against the real service: the async client
through the ASGI app, the blocking client, the command and the documented integration
example against a real server process on the test database."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from registry_client import (
    AsyncRegistryClient,
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RegistryClient,
    UnprocessableEntity,
    identity,
)
from tests.factories import item, token
from tests.sdk.support import cli, member_env

ROOT = Path(__file__).resolve().parents[2]


async def test_async_client_end_to_end_through_the_app(app, registry):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test") as h:
        admin = AsyncRegistryClient(
            "http://registry.test", registry.admin.client_id, registry.admin.client_secret, http_client=h
        )
        lender = await admin.admin.members.create(code="SDKA" + token()[:8].upper(), name="SDK lender A", kind="bank")
        other = await admin.admin.members.create(code="SDKB" + token()[:8].upper(), name="SDK lender B", kind="leasing")
        scopes = ["records:write", "records:read", "exposure:read"]
        a_client = await admin.admin.clients.create(lender.id, name="core", scopes=scopes)
        b_client = await admin.admin.clients.create(other.id, name="core", scopes=scopes)

        a = AsyncRegistryClient("http://registry.test", a_client.client_id, a_client.client_secret, http_client=h)
        b = AsyncRegistryClient("http://registry.test", b_client.client_id, b_client.client_secret, http_client=h)
        subjects = [token() for _ in range(1200)]
        items = [
            item(s, f"SDK-{i:05d}", status="dpd_31_60" if i % 3 == 0 else "current") for i, s in enumerate(subjects)
        ]
        items.append({"subject": "not-a-token", "account_ref": "SDK-BAD"})
        result = await a.records.submit(items)
        assert result.summary.created == 1200 and result.summary.rejected == 1
        assert [r.index for r in result.results] == list(range(1201))
        assert result.results[-1].outcome == "rejected"

        answer = await b.exposure.query(subjects[:3], purpose="loan_application", consent_ref="SDK-CONSENT")
        assert [x.subject for x in answer.results] == subjects[:3]
        assert answer.results[0].found and answer.results[0].worst_status == "dpd_31_60"
        assert answer.results[1].worst_status == "current" and answer.results[1].own.accounts == 0

        listed = [r async for r in a.records.list(status="dpd_31_60", page_size=150)]
        assert len(listed) == 400
        one = await a.records.get(listed[0].id)
        assert one.events[0].kind == "created"
        await a.records.withdraw(listed[0].id)
        assert len([r async for r in a.records.list(status="dpd_31_60", page_size=500)]) == 399

        audit = [
            e async for e in admin.admin.audit.list(member_id=str(lender.id), action="records.submit", page_size=10)
        ]
        assert len(audit) == 2


def test_command_line_submit_query_and_list(live_server, tmp_path):
    reporter, asker = member_env(live_server), member_env(live_server)
    hashed = cli(reporter, "token", "cn_resident_id", "11010519491231002X")
    assert hashed.returncode == 0, hashed.stderr
    subject = hashed.stdout.strip()
    assert subject == identity.token("cn_resident_id", "11010519491231002X", live_server["hashing_key"])

    rows = [
        item(subject, "CLI-1", status="dpd_61_90", overdue_amount="700.00"),
        item(token(), "CLI-2"),
        item(token(), "CLI-3", status="dpd_1_30", notice_sent_on=None),  # rejected: no notice
    ]
    path = tmp_path / "records.csv"
    fields = sorted({k for r in rows for k in r})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    submitted = cli(reporter, "submit", str(path), cwd=tmp_path)
    assert submitted.returncode == 3, submitted.stdout + submitted.stderr  # done, with rejected rows
    assert re.search(r"created\D+2", submitted.stdout) and re.search(r"rejected\D+1", submitted.stdout)
    rejects = list(tmp_path.glob("records*.rejected*"))
    assert rejects and "notice_sent_on" in rejects[0].read_text()

    asked = cli(asker, "exposure", subject, "--purpose", "loan_application", "--consent-ref", "CLI-CONSENT", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["results"][0]["worst_status"] == "dpd_61_90"
    assert answer["results"][0]["overdue_amounts"] == {"CNY": "700.00"}

    listed = cli(reporter, "records", "list")
    assert listed.returncode == 0 and "CLI-1" in listed.stdout and "CLI-2" in listed.stdout

    refused = cli(asker, "exposure", "not-a-token", "--purpose", "loan_application", "--consent-ref", "x")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr + refused.stdout


def test_documented_integration_runs_as_written(live_server, tmp_path):
    """docs/sdk.md's complete integration, executed verbatim against the live server."""
    text = (ROOT / "docs" / "sdk.md").read_text()
    section = text.split("## A complete integration", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 30
    script = tmp_path / "integration.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], env=member_env(live_server), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "created=1" in done.stdout


def test_the_blocking_client_raises_what_a_real_server_answers(live_server):
    """Problem bodies from a real server process become the SDK's exceptions, with the
    status, the field errors and the request id the server logged (tests/sdk/test_sdk_against_the_service.py
    checks the async client and the retries)."""
    env = member_env(live_server, scopes=("records:read",))
    url, client_id = env["REGISTRY_URL"], env["REGISTRY_CLIENT_ID"]
    with RegistryClient(url, client_id, env["REGISTRY_CLIENT_SECRET"]) as client:
        with pytest.raises(NotFound) as missing:
            client.records.get("0193a5b0-7c1e-7d2f-8a3b-5e4f3d2c1b0a")
        with pytest.raises(UnprocessableEntity) as invalid:
            client.records.get("not-a-record-id")
        with pytest.raises(PermissionDenied) as forbidden:
            client.exposure.query([token()], purpose="account_review")
    with RegistryClient(url, client_id, "brs_not-the-secret") as wrong, pytest.raises(AuthenticationError) as refused:
        wrong.records.get("0193a5b0-7c1e-7d2f-8a3b-5e4f3d2c1b0a")
    for raised, status in ((missing, 404), (invalid, 422), (forbidden, 403), (refused, 401)):
        error = raised.value
        assert error.status == error.body["status"] == status
        assert error.request_id == error.body["request_id"] == error.response.headers["x-request-id"]
        assert error.title and error.detail
    assert [e.field for e in invalid.value.errors] == [e["field"] for e in invalid.value.body["errors"]]
    assert invalid.value.errors and refused.value.body["error"] == "invalid_client"
