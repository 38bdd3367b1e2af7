"""HTTP of member and client administration (scope `admin`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from registry.audit.actions import AuditAction
from registry.auth.deps import Admin
from registry.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
    problem_responses,
)
from registry.core.pagination import CursorParam, LimitParam, Page
from registry.deps import Intent, TxDep, audited
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
)
async def create_member(
    body: MemberCreate, principal: Admin, tx: TxDep, audit: Intent, idempotency_key: IdempotencyKeyHeader = None
) -> MemberOut:
    return await service.create_member(tx, body, audit, idempotency=(principal.member_id, idempotency_key))


@router.get("/members", dependencies=[audited(AuditAction.ADMIN_MEMBER_LIST)], responses=problem_responses(Invalid),
            summary="List members")
async def list_members(_: Admin, tx: TxDep, cursor: CursorParam = None, limit: LimitParam = 50) -> Page[MemberOut]:
    return await service.list_members(tx, cursor, limit)


@router.get("/members/{member_id}", dependencies=[audited(AuditAction.ADMIN_MEMBER_READ)],
            responses=problem_responses(NotFound, Invalid), summary="Get one member")
async def get_member(member_id: MemberPath, _: Admin, tx: TxDep, audit: Intent) -> MemberOut:
    return await service.get_member(tx, member_id, audit)


@router.patch(
    "/members/{member_id}",
    dependencies=[audited(AuditAction.ADMIN_MEMBER_UPDATE)],
    responses=problem_responses(NotFound, Conflict, Invalid),
    summary="Suspend, reactivate, rename or set quotas",
)
async def update_member(member_id: MemberPath, body: MemberUpdate, _: Admin, tx: TxDep, audit: Intent) -> MemberOut:
    return await service.update_member(tx, member_id, body, audit)


@router.post(
    "/members/{member_id}/clients",
    status_code=status.HTTP_201_CREATED,
    dependencies=[audited(AuditAction.ADMIN_CLIENT_CREATE)],
    responses=problem_responses(NotFound, Invalid, Conflict),
    summary="Issue an API client (the secret is shown once)",
)
async def create_client(
    member_id: MemberPath, body: ClientCreate, principal: Admin, tx: TxDep, audit: Intent,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ClientCreated:
    return await service.create_client(tx, member_id, body, audit, idempotency=(principal.member_id, idempotency_key))


@router.get("/members/{member_id}/clients", dependencies=[audited(AuditAction.ADMIN_CLIENT_LIST)],
            responses=problem_responses(NotFound, Invalid), summary="List a member's clients")
async def list_clients(member_id: MemberPath, _: Admin, tx: TxDep, audit: Intent) -> list[ClientOut]:
    return await service.list_clients(tx, member_id, audit)


@router.delete("/clients/{client_id}", dependencies=[audited(AuditAction.ADMIN_CLIENT_REVOKE)],
               responses=problem_responses(NotFound, Invalid), summary="Revoke a client at once")
async def revoke_client(client_id: ClientPath, _: Admin, tx: TxDep, audit: Intent) -> ClientOut:
    return await service.revoke_client(tx, client_id, audit)
