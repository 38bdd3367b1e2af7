"""HTTP of member and client administration (scope `admin`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from registry.audit.actions import AuditAction
from registry.context import Admin, audited
from registry.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.idempotency.http import IdempotencyKeyHeader
from registry.members import service
from registry.members.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    MemberCreate,
    MemberOut,
    MemberUpdate,
)

router = APIRouter(prefix="/admin", tags=["admin: members"], responses=problem_responses(Unauthenticated, Forbidden))

MemberPath = Annotated[uuid.UUID, Path(description="Member id")]
ClientPath = Annotated[str, Path(max_length=64, description="Client id", examples=["brc_3f9a1c2e7b6d5a40"])]


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.ADMIN_MEMBER_CREATE)],
    responses=problem_responses(Conflict, Invalid),
    summary="Onboard a member",
    description=(
        "Creates a member institution, active at once, with the service's default quotas unless given. "
        "The code is unique and permanent; a second member with the same code is 409. The member then "
        "needs an API client (POST /admin/members/{member_id}/clients) before it can call anything."
    ),
)
async def create_member(body: MemberCreate, ctx: Admin, idempotency_key: IdempotencyKeyHeader = None) -> MemberOut:
    return await service.create_member(ctx.tx, body, ctx.audit, ctx.idempotency(idempotency_key))


@router.get(
    "/members",
    dependencies=[audited(AuditAction.ADMIN_MEMBER_LIST)],
    responses=problem_responses(Invalid),
    summary="List members",
    description="Every member, the association included, oldest first, a page at a time.",
)
async def list_members(ctx: Admin, cursor: CursorParam = None, limit: LimitParam = 50) -> Page[MemberOut]:
    return await service.list_members(ctx.tx, cursor, limit)


@router.get(
    "/members/{member_id}",
    dependencies=[audited(AuditAction.ADMIN_MEMBER_READ)],
    responses=problem_responses(NotFound, Invalid),
    summary="Get one member",
    description="One member: its code, kind, status and quotas.",
)
async def get_member(member_id: MemberPath, ctx: Admin) -> MemberOut:
    return await service.get_member(ctx.tx, member_id, ctx.audit)


@router.patch(
    "/members/{member_id}",
    dependencies=[audited(AuditAction.ADMIN_MEMBER_UPDATE)],
    responses=problem_responses(NotFound, Conflict, Invalid),
    summary="Suspend, reactivate, rename or set quotas",
    description=(
        "Only the fields sent change. Suspending a member refuses every token of its clients on their "
        "very next request, in every worker; reactivating lets them in again. A quota set to null falls "
        "back to the service default."
    ),
)
async def update_member(member_id: MemberPath, body: MemberUpdate, ctx: Admin) -> MemberOut:
    return await service.update_member(ctx.tx, member_id, body, ctx.audit)


@router.post(
    "/members/{member_id}/clients",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.ADMIN_CLIENT_CREATE)],
    responses=problem_responses(NotFound, Invalid, Conflict),
    summary="Issue an API client (the secret is shown once)",
    description=(
        "Creates an API client for the member with the scopes given. With a client secret (the default), "
        "the answer holds the secret this once; only its hash is kept. With `public_jwk`, the client "
        "authenticates with signed assertions (private_key_jwt) and no secret is issued."
    ),
)
async def create_client(
    member_id: MemberPath, body: ClientCreate, ctx: Admin, idempotency_key: IdempotencyKeyHeader = None
) -> ClientCreated:
    return await service.create_client(ctx.tx, member_id, body, ctx.audit, ctx.idempotency(idempotency_key))


@router.get(
    "/members/{member_id}/clients",
    dependencies=[audited(AuditAction.ADMIN_CLIENT_LIST)],
    responses=problem_responses(NotFound, Invalid),
    summary="List a member's clients",
    description="Every API client of the member, revoked ones included, without secrets.",
)
async def list_clients(member_id: MemberPath, ctx: Admin) -> list[ClientOut]:
    return await service.list_clients(ctx.tx, member_id, ctx.audit)


@router.delete(
    "/clients/{client_id}",
    dependencies=[audited(AuditAction.ADMIN_CLIENT_REVOKE)],
    responses=problem_responses(NotFound, Invalid),
    summary="Revoke a client at once",
    description=(
        "Revokes the client: its tokens are refused on their very next request, in every worker, and it "
        "can get no new ones. Revoking is permanent; issue a new client instead."
    ),
)
async def revoke_client(client_id: ClientPath, ctx: Admin) -> ClientOut:
    return await service.revoke_client(ctx.tx, client_id, ctx.audit)
