"""Steps the browser tests repeat: signing in through the form."""

from __future__ import annotations

from tests.console.support import StaffAccount


async def sign_in(tab, account: StaffAccount, path: str = "/console/login") -> None:
    page = tab.page
    await page.goto(path)
    await page.fill("input[name=email]", account.email)
    await page.fill("input[name=password]", account.password)
    await page.fill("input[name=otp]", account.code())
    async with page.expect_navigation():
        await page.click("button[type=submit]")
