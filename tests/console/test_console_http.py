"""The console over HTTP (fast, no browser): signing in and its failure modes, the throttle,
sessions, CSRF, the headers every page carries, and the audit rows people leave. Every test
asks for `registry`: the console acts as the association, which it bootstraps."""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from registry.console.sessions import COOKIE
from tests.console.support import (
    ORIGIN,
    StaffAccount,
    console_client,
    csrf_of,
    make_staff,
    sign_in,
    signed_in_client,
)
from tests.factories import item, submit, token

FAILED = "Email, password or code not accepted."


async def test_login_page_has_the_three_fields(app, registry):
    async with console_client(app) as client:
        page = await client.get("/console/login", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    for name in ("email", "password", "otp"):
        assert f'name="{name}"' in page.text


async def test_a_right_password_and_code_open_a_session_with_a_strict_cookie(app, registry):
    account = await make_staff(app)
    async with console_client(app) as client:
        response = await sign_in(client, account)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/"
        cookie = response.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/console" in cookie and "Secure" not in cookie  # plain HTTP in development
        dashboard = await client.get("/console/")
        assert dashboard.status_code == 200
        assert account.email in dashboard.text
    rows = await registry.audit_rows(action="console.login", client_id=account.email)
    assert len(rows) == 1 and rows[0]["outcome"] == 303


async def test_the_cookie_is_secure_over_https(app, registry):
    account = await make_staff(app)
    async with console_client(app) as client:
        client.base_url = "https://registry.test"
        response = await client.post(
            "/console/login",
            data={"email": account.email, "password": account.password, "otp": account.code()},
            headers={"Origin": "https://registry.test"},
        )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("failure", ["wrong password", "wrong code", "account disabled", "unknown account"])
async def test_each_failure_gets_the_same_answer_and_is_audited(app, registry, pool, failure):
    account = await make_staff(app)
    email, password, code = account.email, account.password, account.code()
    if failure == "wrong password":
        password = "not-the-password"
    elif failure == "wrong code":
        code = f"{(int(code) + 1) % 1_000_000:06d}"
    elif failure == "account disabled":
        await pool.execute("UPDATE staff SET status = 'disabled' WHERE email = $1", email)
    else:
        email = "nobody-" + email
    async with console_client(app) as client:
        response = await client.post(
            "/console/login",
            data={"email": email, "password": password, "otp": code},
            headers={"Origin": ORIGIN, "Accept-Language": "en"},
        )
        assert response.status_code == 401
        assert FAILED in response.text
        assert COOKIE not in client.cookies
    rows = await registry.audit_rows(action="console.login.failed", client_id=email)
    assert [(r["outcome"], r["details"]["reason"]) for r in rows] == [(401, failure)]
    assert password not in str(rows[0]["details"])


async def test_a_code_works_once(app, clock, registry):
    account = await make_staff(app)
    moment = datetime.now(UTC).replace(microsecond=0)
    clock.set(moment)
    async with console_client(app) as first, console_client(app) as second:
        assert (await sign_in(first, account, code=account.code(moment))).status_code == 303
        assert (await sign_in(second, account, code=account.code(moment))).status_code == 401
        # One step earlier is accepted (clock drift), but not once a later step was used.
        assert (await sign_in(second, account, code=account.code(moment - timedelta(seconds=30)))).status_code == 401
        clock.set(moment + timedelta(seconds=30))
        assert (await sign_in(second, account, code=account.code(moment + timedelta(seconds=60)))).status_code == 303


async def test_codes_one_step_either_side_are_accepted_and_two_are_not(app, clock, registry):
    moment = datetime.now(UTC).replace(microsecond=0)
    clock.set(moment)
    for offset, accepted in ((-30, True), (30, True), (-60, False), (60, False)):
        account = await make_staff(app)
        async with console_client(app) as client:
            response = await sign_in(client, account, code=account.code(moment + timedelta(seconds=offset)))
        assert (response.status_code == 303) is accepted, offset


async def test_five_failures_throttle_the_account_even_for_the_right_password(app, registry):
    account = await make_staff(app)
    async with console_client(app) as client:
        for _ in range(5):
            assert (await sign_in(client, account, password="wrong")).status_code == 401
        refused = await sign_in(client, account)
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        assert COOKIE not in client.cookies
    rows = await registry.audit_rows(action="console.login.failed", client_id=account.email)
    assert [r["outcome"] for r in rows] == [401] * 5 + [429]


async def test_the_throttle_forgets_after_its_window(app, clock, registry):
    account = await make_staff(app)
    start = datetime.now(UTC).replace(microsecond=0)
    clock.set(start)
    async with console_client(app) as client:
        for _ in range(5):
            await sign_in(client, account, password="wrong", code="000000")
        later = start + timedelta(minutes=16)
        clock.set(later)
        assert (await sign_in(client, account, code=account.code(later))).status_code == 303


async def test_failures_from_one_address_throttle_it_for_every_account(app, settings, registry):
    limit = settings.console_failures_per_address
    settings.console_failures_per_address = 3
    await app.state.runtime.db.system_pool.execute("DELETE FROM staff_login_failures")
    try:
        async with console_client(app) as client:
            client.headers["X-Test"] = "address"
            accounts = [await make_staff(app) for _ in range(4)]
            for account in accounts[:3]:
                assert (await sign_in(client, account, password="wrong")).status_code == 401
            assert (await sign_in(client, accounts[3])).status_code == 429
    finally:
        settings.console_failures_per_address = limit
        await app.state.runtime.db.system_pool.execute("DELETE FROM staff_login_failures")


async def test_every_console_page_sends_the_strict_headers(app, registry):
    async with signed_in_client(app) as (client, _):
        for path in ("/console/login", "/console/", "/console/members", "/console/static/console.css", "/console/nope"):
            response = await client.get(path)
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert "unsafe-inline" not in csp
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_nonce_changes_with_every_response(app, registry):
    async with console_client(app) as client:
        first = (await client.get("/console/login")).headers["content-security-policy"]
        second = (await client.get("/console/login")).headers["content-security-policy"]
    assert first != second


async def test_a_page_without_a_session_sends_to_the_sign_in(app, registry):
    async with console_client(app) as client:
        response = await client.get("/console/members")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/members"


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(app, registry, pool, token):
    code = f"CSRF{token or 'NONE'}".upper()[:12]
    async with signed_in_client(app) as (client, account):
        data = {"code": code, "name": "Forged Bank", "kind": "bank"}
        if token:
            data["csrf_token"] = token
        response = await client.post("/console/members", data=data, headers={"Origin": ORIGIN})
    assert response.status_code == 403
    assert await pool.fetchval("SELECT count(*) FROM members WHERE code = $1", code) == 0
    rows = await registry.audit_rows(action="admin.member.create", client_id=account.email)
    assert [r["outcome"] for r in rows] == [403]


async def test_a_post_from_another_origin_is_refused_even_with_the_token(app, pool, registry):
    async with signed_in_client(app) as (client, _):
        token = csrf_of((await client.get("/console/members")).text)
        response = await client.post(
            "/console/members",
            data={"code": "EVILORIGIN", "name": "x", "kind": "bank", "csrf_token": token},
            headers={"Origin": "http://evil.test"},
        )
        assert response.status_code == 403
        ok = await client.post(
            "/console/members",
            data={
                "code": "GOODORIGIN" + token[:4].upper().replace("-", "_"),
                "name": "x",
                "kind": "bank",
                "csrf_token": token,
            },
            headers={"Origin": ORIGIN},
        )
        assert ok.status_code == 303
    assert await pool.fetchval("SELECT count(*) FROM members WHERE code = 'EVILORIGIN'") == 0


async def test_sign_out_ends_the_session_on_the_server(app, registry):
    async with signed_in_client(app) as (client, account):
        cookie = client.cookies.get(COOKIE)
        token = csrf_of((await client.get("/console/")).text)
        response = await client.post("/console/logout", data={"csrf_token": token}, headers={"Origin": ORIGIN})
        assert response.status_code == 303
    async with console_client(app) as replay:
        replay.cookies.set(COOKIE, cookie, domain="registry.test", path="/console")
        assert (await replay.get("/console/")).status_code == 303
    assert len(await registry.audit_rows(action="console.logout", client_id=account.email)) == 1


async def test_a_session_ends_after_30_idle_minutes_and_after_12_hours(app, clock, registry):
    start = datetime.now(UTC)
    clock.set(start)
    async with signed_in_client(app) as (client, _):
        for minutes in (29, 58, 87):  # used every 29 minutes: alive
            clock.set(start + timedelta(minutes=minutes))
            assert (await client.get("/console/members")).status_code == 200
        clock.set(start + timedelta(minutes=87 + 31))
        assert (await client.get("/console/members")).status_code == 303
    clock.set(start)
    async with signed_in_client(app) as (client, _):
        moment = start
        while moment < start + timedelta(hours=12):
            moment += timedelta(minutes=25)
            clock.set(moment)
            response = await client.get("/console/members")
        assert response.status_code == 303


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("admin", ["/console/", "/console/members", "/console/disputes", "/console/audit", "/console/staff"], []),
        (
            "dispute_officer",
            ["/console/disputes", "/console/subjects"],
            ["/console/", "/console/members", "/console/audit", "/console/operations"],
        ),
        (
            "analyst",
            ["/console/", "/console/members", "/console/league.csv"],
            ["/console/disputes", "/console/subjects", "/console/audit", "/console/staff"],
        ),
        ("auditor", ["/console/", "/console/audit", "/console/operations", "/console/disputes"], ["/console/staff"]),
    ],
)
async def test_each_role_reaches_its_pages_and_no_others(app, role, allowed, refused, registry):
    async with signed_in_client(app, role) as (client, _):
        for path in allowed:
            assert (await client.get(path)).status_code == 200, path
        for path in refused:
            response = await client.get(path, headers={"Accept-Language": "en"})
            assert response.status_code == 403, path
            assert "Your role does not allow this page or action." in response.text


async def test_read_only_roles_cannot_change_anything(app, pool, registry):
    for role in ("analyst", "auditor"):
        async with signed_in_client(app, role) as (client, _):
            token = csrf_of((await client.get("/console/members")).text)
            response = await client.post(
                "/console/members",
                data={"code": f"RO{role.upper()}", "name": "x", "kind": "bank", "csrf_token": token},
                headers={"Origin": ORIGIN},
            )
        assert response.status_code == 403
        assert await pool.fetchval("SELECT count(*) FROM members WHERE code = $1", f"RO{role.upper()}") == 0


async def test_pages_speak_the_accept_language_and_the_switch_overrides_it(app, registry):
    async with signed_in_client(app) as (client, _):
        zh = await client.get("/console/members", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert "会员机构" in zh.text and '<html lang="zh-CN">' in zh.text
        en = await client.get("/console/members", headers={"Accept-Language": "en-US"})
        assert "Onboard a member" in en.text
        switched = await client.get("/console/lang/zh?next=/console/members")
        assert switched.status_code == 303 and switched.headers["location"] == "/console/members"
        again = await client.get("/console/members", headers={"Accept-Language": "en-US"})
        assert "新增会员机构" in again.text


async def test_the_language_switch_never_leaves_the_console(app, registry):
    async with console_client(app) as client:
        response = await client.get("/console/lang/en?next=//evil.test/")
    assert response.headers["location"] == "/console/"


async def test_api_docs_load_their_assets_from_the_service(http):
    for path in ("/docs", "/redoc"):
        page = await http.get(path)
        assert page.status_code == 200
        assert "https://" not in page.text and "http://" not in page.text.replace("http://www.w3.org", ""), path
    assert (await http.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
    redoc = await http.get("/docs-assets/redoc.js")
    assert redoc.status_code == 200 and b"cdn.redoc.ly" not in redoc.content


async def test_the_audit_page_shows_people_and_member_names_and_exports_stream(app, registry):
    member = await registry.member(name="Audit Page Bank")
    async with signed_in_client(app, "auditor") as (client, account):
        page = await client.get(f"/console/audit?member={member.code}", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert f"{member.code} · Audit Page Bank" in page.text
        mine = await client.get(f"/console/audit?actor={account.email}")
        assert "console.login" in mine.text
        csv_export = await client.get(f"/console/audit/export.csv?member={member.code}")
        assert csv_export.status_code == 200 and csv_export.headers["content-type"].startswith("text/csv")
        lines = csv_export.text.strip().splitlines()
        assert lines[0].startswith("id,at,member_code,member_name,actor,action")
        assert len(lines) > 1 and all(member.code in line for line in lines[1:])
        ndjson = await client.get(f"/console/audit/export.ndjson?actor={account.email}")
        rows = [json.loads(line) for line in ndjson.text.splitlines()]
        assert rows and {r["actor"] for r in rows} == {account.email}
        token = csrf_of(page.text)
        verified = await client.post("/console/audit/verify", data={"csrf_token": token}, headers={"Origin": ORIGIN})
        assert verified.status_code == 200 and 'id="verification"' in verified.text
    exports = await registry.audit_rows(action="admin.audit.export", client_id=account.email)
    assert [r["details"]["format"] for r in exports] == ["csv", "ndjson"]


async def test_the_league_table_downloads_as_csv(app, http, registry):
    member = await registry.member(name="League Bank")
    await submit(http, member, item(token(), status="dpd_61_90", overdue_amount="100", delinquent_since="2026-08-01"))
    async with signed_in_client(app, "analyst") as (client, _):
        response = await client.get("/console/league.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    mine = next(r for r in rows if r["code"] == member.code)
    assert mine["name"] == "League Bank" and float(mine["uncollected_rate"]) == 1.0
    assert all(r["kind"] != "association" for r in rows)


async def test_operations_runs_retention_now_for_an_admin_only(app, registry):
    async with signed_in_client(app, "auditor") as (client, _):
        page = await client.get("/console/operations")
        assert page.status_code == 200 and 'id="readiness"' in page.text
        refused = await client.post(
            "/console/operations/retention", data={"csrf_token": csrf_of(page.text)}, headers={"Origin": ORIGIN}
        )
        assert refused.status_code == 403
    async with signed_in_client(app) as (client, account):
        page = await client.get("/console/operations")
        ran = await client.post(
            "/console/operations/retention", data={"csrf_token": csrf_of(page.text)}, headers={"Origin": ORIGIN}
        )
        assert ran.status_code == 303
    rows = await registry.audit_rows(action="retention.run", client_id=account.email)
    assert len(rows) == 1 and rows[0]["details"]["via"] == "console"


async def test_an_admin_creates_a_staff_account_in_the_console_and_it_signs_in(app, registry):
    email = f"new-{secrets.token_hex(3)}@association.test"
    async with signed_in_client(app) as (client, _):
        page = await client.get("/console/staff")
        created = await client.post(
            "/console/staff",
            data={"email": email, "role": "auditor", "csrf_token": csrf_of(page.text)},
            headers={"Origin": ORIGIN},
        )
        assert created.status_code == 200
        password = created.text.split('id="staff-password">')[1].split("<")[0]
        secret = created.text.split('id="staff-totp">')[1].split("<")[0]
        listed = await client.get("/console/staff")
        assert password not in listed.text and secret not in listed.text
    account = StaffAccount(email, "auditor", password, secret)
    async with console_client(app) as newcomer:
        assert (await sign_in(newcomer, account)).status_code == 303


async def test_members_are_found_by_code_or_name(app, registry):
    member = await registry.member(name=f"Searchable Finance {secrets.token_hex(2)}")
    async with signed_in_client(app, "analyst") as (client, _):
        by_name = await client.get("/console/members", params={"q": member.name.split()[-1]})
        by_code = await client.get("/console/members", params={"q": member.code.lower()})
        neither = await client.get("/console/members", params={"q": "no-such-member-anywhere"})
    assert member.code in by_name.text and member.code in by_code.text
    assert member.code not in neither.text


async def test_the_inbox_sorts_by_deadline_and_marks_the_overdue(app, http, registry, clock):
    lender = await registry.member()
    async with signed_in_client(app, "dispute_officer") as (client, _):  # on the real clock, before it is set
        ids = []
        for day in (1, 10):
            subject = token()
            await submit(http, lender, item(subject, status="dpd_31_60", overdue_amount="10"))
            clock.set(datetime(2026, 11, day, 9, 0, tzinfo=UTC))
            filed = await http.post(
                "/v1/disputes",
                json={"subject": subject, "reason": "wrong_status", "statement": f"Filed on day {day}."},
                headers=lender.headers,
            )
            assert filed.status_code == 202, filed.text
            ids.append(filed.json()["id"])
        clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # the first is 4 days overdue, the second has 5 left
        inbox = (await client.get(f"/console/disputes?member={lender.code}", headers={"Accept-Language": "en"})).text
        overdue_only = (await client.get(f"/console/disputes?member={lender.code}&overdue=true")).text
        everything = await client.get(f"/console/disputes?member={lender.code}&status=")
    assert inbox.index(ids[0]) < inbox.index(ids[1])
    assert 'class="overdue"' in inbox and "4 days overdue" in inbox
    assert ids[0] in overdue_only and ids[1] not in overdue_only
    assert everything.status_code == 200
