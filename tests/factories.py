"""Small async factories: members, clients and tokens made through the real admin API."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from registry.audit.actions import AuditAction
from registry.audit.auditor import Actor, for_work
from registry.auth.principal import Scope
from registry.core.db import Tx
from registry.members import repository as members_repository
from registry.members import service as members_service
from registry.members.schemas import ClientCreate, MemberCreate, MemberKind

ALL_MEMBER_SCOPES = ["records:write", "records:read", "exposure:read", "monitor", "disputes"]


def unique_code(prefix: str = "M") -> str:
    return f"{prefix}{secrets.token_hex(5).upper()}"


@dataclass
class Client:
    client_id: str
    client_secret: str
    member_id: uuid.UUID
    scopes: list[str]
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Member:
    id: uuid.UUID
    code: str
    name: str
    client: Client
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return self.client.headers


async def fetch_token(http: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = await http.post("/oauth/token", data=data, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass
class Registry:
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    admin: Client

    @classmethod
    async def bootstrap(cls, http: httpx.AsyncClient, pool: asyncpg.Pool) -> Registry:
        async with pool.acquire() as conn, conn.transaction():
            tx = Tx(conn)
            association = await members_repository.find_association(conn)
            if association is None:
                member = await members_service.create_member(
                    tx,
                    MemberCreate(code="ASSOC", name="Lenders' Association", kind=MemberKind.association),
                    for_work(AuditAction.ADMIN_MEMBER_CREATE, Actor(None, "tests")),
                )
                member_id = member.id
            else:
                member_id = association.id
            created = await members_service.create_client(
                tx,
                member_id,
                ClientCreate(name="test-admin", scopes=[Scope.ADMIN]),
                for_work(AuditAction.ADMIN_CLIENT_CREATE, Actor(None, "tests")),
            )
        admin = Client(created.client_id, created.client_secret, member_id, ["admin"])
        admin.token = await fetch_token(http, admin.client_id, admin.client_secret)
        return cls(http, pool, admin)

    async def member(self, kind: str = "bank", scopes: list[str] | None = None, name: str | None = None) -> Member:
        code = unique_code()
        response = await self.http.post(
            "/admin/members",
            json={"code": code, "name": name or f"Member {code}", "kind": kind},
            headers=self.admin.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        client = await self.client(uuid.UUID(body["id"]), scopes or ALL_MEMBER_SCOPES)
        return Member(uuid.UUID(body["id"]), code, body["name"], client)

    async def client(self, member_id: uuid.UUID, scopes: list[str]) -> Client:
        response = await self.http.post(
            f"/admin/members/{member_id}/clients", json={"name": "test", "scopes": scopes}, headers=self.admin.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        client = Client(body["client_id"], body["client_secret"], member_id, scopes)
        client.token = await fetch_token(self.http, client.client_id, client.client_secret)
        return client

    async def audit_rows(self, **where: Any) -> list[asyncpg.Record]:
        clauses = " AND ".join(f"{k} = ${i + 1}" for i, k in enumerate(where))
        return await self.pool.fetch(f"SELECT * FROM audit_log WHERE {clauses or 'true'} ORDER BY id", *where.values())


def token() -> str:
    """A fresh borrower token (what a member's client computes with brs1)."""
    return secrets.token_hex(32)


def item(subject: str, account_ref: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid record item, current by default; fields override."""
    base: dict[str, Any] = {
        "subject": subject,
        "subject_type": "individual",
        "account_ref": account_ref if account_ref is not None else f"ACC-{secrets.token_hex(4)}",
        "product": "consumer_loan",
        "status": "current",
        "currency": "CNY",
        "principal_amount": "10000.00",
        "outstanding_amount": "8000.00",
        "overdue_amount": "0",
        "opened_on": "2024-01-10",
        "as_of": "2026-10-31",
    }
    if fields.get("status", "current").startswith("dpd") or fields.get("status") == "written_off":
        base.update(delinquent_since="2026-09-01", notice_sent_on="2026-09-15")
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


async def submit(http: httpx.AsyncClient, member: Member, *items: dict[str, Any], **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", member.headers)
    return await http.post("/v1/records", json={"records": list(items)}, headers=headers, **kwargs)
