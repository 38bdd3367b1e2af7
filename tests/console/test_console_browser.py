# ruff: noqa: RUF001 -- the pages write day ranges with an en dash, as the labels do.
"""The console in a real headless Chromium: signing in, changes refused without the form's
token, each role's reach, onboarding a member and issuing a client, resolving a dispute
(seen in the exposure answer), a borrower lookup that never sends the identity or the key,
no request to another host on any page (/docs and /redoc included), and both languages."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from registry_client import identity
from tests.console.browser import sign_in
from tests.console.support import make_staff
from tests.disputes.support import answer, delinquent
from tests.factories import fetch_token, item, submit, token

VECTORS = json.loads((Path(__file__).parents[2] / "clients/python/tests/identity-vectors.json").read_text())
# Screenshots of every page: docs/console/ when REGISTRY_CONSOLE_SCREENSHOTS names it (`make screenshots`).
SCREENSHOTS = os.environ.get("REGISTRY_CONSOLE_SCREENSHOTS")


async def test_sign_in_with_a_one_time_code_and_out_again(app, tab):
    account = await make_staff(app)
    page = tab.page
    await page.goto("/console/login")
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.fill("input[name=otp]", "000000" if account.code() != "000000" else "111111")
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert "Email, password or code not accepted." in await page.inner_text("main")
    await sign_in(tab, account)
    assert page.url.endswith("/console/")
    assert account.email in await page.inner_text("header")
    async with page.expect_navigation():
        await page.click("text=Sign out")
    assert "/console/login" in page.url
    await page.goto("/console/members")
    assert "/console/login" in page.url  # the session ended on the server


async def test_a_form_with_a_wrong_csrf_token_is_refused_and_changes_nothing(app, tab, pool):
    await sign_in(tab, await make_staff(app))
    page = tab.page
    code = "FORGED" + secrets.token_hex(3).upper()
    await page.goto("/console/members")
    await page.fill("#onboard input[name=code]", code)
    await page.fill("#onboard input[name=name]", "Forged Bank")
    await page.eval_on_selector("#onboard input[name=csrf_token]", "e => e.value = 'tampered'")
    async with page.expect_navigation() as navigation:
        await page.click("#onboard button[type=submit]")
    assert (await navigation.value).status == 403
    assert "nothing was changed" in await page.inner_text("main")
    assert await pool.fetchval("SELECT count(*) FROM members WHERE code = $1", code) == 0


@pytest.mark.parametrize(
    ("role", "own_page", "refused"),
    [
        ("dispute_officer", "/console/disputes", "/console/members"),
        ("analyst", "/console/", "/console/subjects"),
        ("auditor", "/console/", "/console/staff"),
    ],
)
async def test_each_role_sees_its_pages_and_a_403_page_elsewhere(app, tab, role, own_page, refused):
    await sign_in(tab, await make_staff(app, role))
    page = tab.page
    assert page.url.endswith(own_page)
    response = await page.goto(refused)
    assert response.status == 403
    assert "Your role does not allow this page or action." in await page.inner_text("main")


async def test_onboard_a_member_issue_a_client_and_suspend_it(app, tab, http):
    await sign_in(tab, await make_staff(app))
    page = tab.page
    code = "ONB" + secrets.token_hex(3).upper()
    await page.goto("/console/members")
    await page.fill("#onboard input[name=code]", code)
    await page.fill("#onboard input[name=name]", "Onboarded Leasing Co")
    await page.select_option("#onboard select[name=kind]", "leasing")
    async with page.expect_navigation():
        await page.click("#onboard button[type=submit]")
    assert page.url.endswith(f"/console/members/{code}")
    assert "leasing company" in await page.inner_text("main")

    await page.fill("#new-client input[name=name]", "loan-origination")
    async with page.expect_navigation():
        await page.click("#new-client button[type=submit]")
    client_id = (await page.inner_text("#client-id")).strip()
    secret = (await page.inner_text("#client-secret")).strip()
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.click("button[data-copy=client-secret]")
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    access = await fetch_token(http, client_id, secret)  # the secret shown once works
    await page.goto(f"/console/members/{code}")
    assert secret not in await page.content()  # and is never shown again

    await page.click("text=Suspend")
    assert "/status?to=suspended" in page.url  # a confirmation step first
    async with page.expect_navigation():
        await page.click("#confirm")
    assert "suspended" in await page.inner_text("#member-status")
    refused = await http.get("/v1/records", headers={"Authorization": f"Bearer {access}"})
    assert refused.status_code == 401  # on the member's very next request


async def test_resolving_a_dispute_changes_the_exposure_answer(app, tab, http, registry):
    lender, asker = await registry.member(), await registry.member()
    subject = token()
    assert (await submit(http, lender, delinquent(subject, "L-1"))).status_code == 200
    filed = await http.post(
        "/v1/disputes",
        json={"subject": subject, "reason": "not_mine", "statement": "This loan is not mine."},
        headers=lender.headers,
    )
    assert filed.status_code == 202, filed.text
    before = await answer(http, asker, subject)
    assert before["institutions_delinquent"] == 1 and before["disputed"] is True

    await sign_in(tab, await make_staff(app, "dispute_officer"))
    page = tab.page
    await page.goto(f"/console/disputes?member={lender.code}")
    async with page.expect_navigation():
        await page.click("#inbox tbody a")
    assert "This loan is not mine." in await page.inner_text("main")
    assert "61–90 days past due" in await page.inner_text("#covered")
    await page.check("input[name=resolution][value=upheld]")
    await page.fill("textarea[name=note]", "The lender could not show a contract.")
    async with page.expect_navigation():
        await page.click("#resolve button[type=submit]")
    assert "upheld" in await page.inner_text("#dispute-status")

    after = await answer(http, asker, subject)
    assert after["institutions_delinquent"] == 0 and after["disputed"] is False


async def test_the_lookup_computes_brs1_exactly_as_specified(app, tab):
    await sign_in(tab, await make_staff(app, "dispute_officer"))
    await tab.page.goto("/console/subjects")
    for vector in VECTORS["valid"]:
        computed = await tab.page.evaluate(
            "([k, v, key]) => brs1.token(k, v, key)", [vector["kind"], vector["input"], VECTORS["key_hex"]]
        )
        assert computed == vector["token"], vector
    for vector in VECTORS["invalid"]:
        refused = await tab.page.evaluate(
            "([k, v]) => { try { brs1.normalize(k, v); return false } "
            "catch (e) { return e instanceof brs1.InvalidIdentity } }",
            [vector["kind"], vector["input"]],
        )
        assert refused, vector


async def test_a_borrower_lookup_sends_the_token_and_never_the_identity_or_key(app, tab, http, registry):
    key_hex = secrets.token_hex(32)
    number = "11010519491231002X"
    subject = identity.token("cn_resident_id", number, key_hex)
    lender = await registry.member(name="Lookup Test Bank")
    assert (
        await submit(http, lender, item(subject, "LK-1", status="dpd_31_60", overdue_amount="120"))
    ).status_code == 200

    await sign_in(tab, await make_staff(app, "dispute_officer"))
    page = tab.page
    tab.requests.clear()
    await page.goto("/console/subjects")
    for name in ("kind", "identity", "hashing_key"):
        assert await page.locator(f"[name={name}]").count() == 1
    await page.select_option("[name=kind]", "cn_resident_id")
    await page.fill("[name=identity]", number.lower())
    await page.fill("[name=hashing_key]", key_hex)
    async with page.expect_navigation():
        await page.click("#compute")
    assert (await page.inner_text("#report-token")).strip() == subject
    records = await page.inner_text("#report-records")
    assert "Lookup Test Bank" in records and "31–60 days past due" in records
    sent = tab.posted()
    assert subject in sent
    for secret in (number, number.lower(), key_hex, key_hex.upper()):
        assert secret not in sent
    # The key stays in this tab's session storage, and nowhere else.
    assert await page.evaluate("sessionStorage.getItem('registry.k_assoc')") == key_hex
    assert await page.evaluate("localStorage.length") == 0
    assert not any(c["value"] == key_hex for c in await page.context.cookies())

    async with page.expect_navigation():
        await page.click("text=Printable report (中文)")
    assert "借款人信息登记系统中关于您的信息" in await page.inner_text("body")
    assert "逾期31–60天" in await page.inner_text("body")


async def test_file_a_dispute_for_a_borrower_from_the_lookup(app, tab, http, registry):
    subject = token()
    lender = await registry.member()
    assert (await submit(http, lender, delinquent(subject, "FD-1"))).status_code == 200
    await sign_in(tab, await make_staff(app, "dispute_officer"))
    page = tab.page
    await page.goto("/console/subjects")
    await page.eval_on_selector("#subject", "(e, s) => e.value = s", subject)
    async with page.expect_navigation():
        await page.eval_on_selector("#report-form", "f => f.submit()")
    await page.select_option("#file-dispute select[name=reason]", "already_settled")
    await page.fill("#file-dispute textarea[name=statement]", "Repaid in full in October.")
    async with page.expect_navigation():
        await page.click("#file-dispute button[type=submit]")
    assert "/console/disputes/" in page.url
    assert "Repaid in full in October." in await page.inner_text("main")


PAGES = [
    ("login", "/console/login"),
    ("dashboard", "/console/"),
    ("members", "/console/members"),
    ("member", "/console/members/{code}"),
    ("disputes", "/console/disputes?status="),
    ("dispute", "/console/disputes/{dispute}"),
    ("subjects", "/console/subjects"),
    ("audit", "/console/audit"),
    ("operations", "/console/operations"),
    ("staff", "/console/staff"),
    ("docs", "/docs"),
    ("redoc", "/redoc"),
]


async def test_no_page_requests_another_host(app, tab, http, registry, tmp_path):
    lender = await registry.member(name="Screenshot Bank")
    subject = token()
    await submit(http, lender, delinquent(subject, "SS-1"), item(token(), "SS-2"))
    filed = await http.post(
        "/v1/disputes",
        json={"subject": subject, "reason": "wrong_amount", "statement": "The overdue amount is wrong."},
        headers=lender.headers,
    )
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page = tab.page
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto("/console/login")
    await page.screenshot(path=str(shots / "login.png"))
    await sign_in(tab, await make_staff(app))
    for name, path in PAGES[1:]:
        response = await page.goto(path.format(code=lender.code, dispute=filed.json()["id"]), wait_until="networkidle")
        assert response.status == 200, path
        if name == "docs":
            await page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        if name == "redoc":
            await page.wait_for_selector(".api-content h1", timeout=30_000)
            assert "Something went wrong" not in await page.inner_text("body")
        await page.screenshot(path=str(shots / f"{name}.png"), full_page=name not in ("docs", "redoc"))
    assert tab.foreign_requests() == []


async def test_chinese_and_english_pages(app, browser, live_url, registry):
    account = await make_staff(app)
    context = await browser.new_context(base_url=live_url, locale="zh-CN")
    try:
        page = await context.new_page()
        await page.goto("/console/login")
        assert await page.inner_text("h1") == "登录"

        class ZhTab:
            pass

        zh = ZhTab()
        zh.page = page
        await sign_in(zh, account)
        assert "行业概览" in await page.inner_text("main")
        assert await page.get_attribute("html", "lang") == "zh-CN"
        if SCREENSHOTS:  # the Chinese pages, beside the English ones (`make screenshots`)
            await page.set_viewport_size({"width": 1280, "height": 900})
            for name, path in (
                ("dashboard", "/console/"),
                ("members", "/console/members"),
                ("disputes", "/console/disputes"),
            ):
                await page.goto(path, wait_until="networkidle")
                await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.zh.png"), full_page=True)
            await page.goto("/console/")
        async with page.expect_navigation():
            await page.click(".lang-switch >> text=English")
        assert "Industry dashboard" in await page.inner_text("main")
        await page.goto("/console/members")
        assert "Onboard a member" in await page.inner_text("main")
        async with page.expect_navigation():
            await page.click(".lang-switch >> text=中文")
        assert "新增会员机构" in await page.inner_text("main")
    finally:
        await context.close()
