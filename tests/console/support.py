"""What the console tests share: staff accounts made through the service, their one-time
codes, and signing in over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pyotp

from registry.console import staff as staff_accounts
from registry.console.sessions import COOKIE
from registry.console.staff import Role

ORIGIN = "http://registry.test"


@dataclass
class StaffAccount:
    email: str
    role: str
    password: str
    totp_secret: str

    def code(self, at: datetime | None = None) -> str:
        return pyotp.TOTP(self.totp_secret).at(at or datetime.now(UTC))


async def make_staff(app, role: Role | str = Role.admin, email: str | None = None) -> StaffAccount:
    runtime = app.state.runtime
    email = email or f"{role}-{secrets.token_hex(4)}@association.test"
    async with runtime.db.system_pool.acquire() as conn:
        created = await staff_accounts.create(conn, runtime.keys.server_key, email, Role(role))
    return StaffAccount(created.email, created.role, created.password, created.totp_secret)


def console_client(app) -> httpx.AsyncClient:
    """A client of its own (its own cookie jar) on the in-process app."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN, follow_redirects=False)


async def sign_in(
    client: httpx.AsyncClient, account: StaffAccount, *, code: str | None = None, password: str | None = None
) -> httpx.Response:
    return await client.post(
        "/console/login",
        data={
            "email": account.email,
            "password": account.password if password is None else password,
            "otp": account.code() if code is None else code,
        },
        headers={"Origin": ORIGIN},
    )


@asynccontextmanager
async def signed_in_client(app, role: Role | str = Role.admin) -> AsyncIterator[tuple[httpx.AsyncClient, StaffAccount]]:
    account = await make_staff(app, role)
    async with console_client(app) as client:
        response = await sign_in(client, account)
        assert response.status_code == 303, response.text
        assert client.cookies.get(COOKIE)
        yield client, account


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
