"""Rules of members and clients: who may exist, which scopes a client may hold, and that
a change of standing reaches every worker at once."""

from __future__ import annotations

import uuid

from registry.audit.auditor import RequestAudit
from registry.auth.assertions import InvalidJwk, public_key_of
from registry.auth.credentials import announce_change
from registry.auth.principal import Scope
from registry.auth.secrets import hash_secret, new_client_id, new_client_secret
from registry.core import rows
from registry.core.db import Tx
from registry.core.errors import Conflict, FieldError, Invalid, NotFound
from registry.core.pagination import Page, created_cursor, decode_created_cursor
from registry.idempotency import service as idempotency_service
from registry.idempotency.service import IdempotencyKey
from registry.members import repository
from registry.members.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    MemberCreate,
    MemberKind,
    MemberOut,
    MemberStatus,
    MemberUpdate,
)


async def create_member(
    tx: Tx, body: MemberCreate, audit: RequestAudit, idempotency: IdempotencyKey | None = None
) -> MemberOut:
    audit.details = {"code": body.code, "kind": body.kind.value}
    claim, replay = await idempotency_service.claim(tx, idempotency, body.model_dump(mode="json"))
    if replay is not None:
        audit.details["idempotent_replay"] = True
        return MemberOut.model_validate(replay)
    if body.kind is MemberKind.association and await repository.find_association(tx.conn) is not None:
        raise Conflict("The association member already exists")
    row = await repository.insert_member(
        tx.conn, body.code, body.name, body.kind.value, body.quota_exposure_per_minute, body.quota_writes_per_second
    )
    if row is None:
        raise Conflict(f"A member with code {body.code} already exists")
    audit.resource = f"member:{row.id}"
    member = MemberOut.model_validate(row, from_attributes=True)
    await idempotency_service.complete(tx, claim, 201, member.model_dump(mode="json"))
    return member


async def get_member(tx: Tx, member_id: uuid.UUID, audit: RequestAudit) -> MemberOut:
    audit.resource = f"member:{member_id}"
    row = await repository.get_member(tx.conn, member_id)
    if row is None:
        raise NotFound("No member with that id")
    return MemberOut.model_validate(row, from_attributes=True)


async def get_member_by_code(tx: Tx, code: str) -> MemberOut:
    row = await repository.get_member_by_code(tx.conn, code)
    if row is None:
        raise NotFound(f"No member with code {code}")
    return MemberOut.model_validate(row, from_attributes=True)


async def list_members(tx: Tx, cursor: str | None, limit: int) -> Page[MemberOut]:
    rows = await repository.list_members(tx.conn, decode_created_cursor(cursor), limit + 1)
    return Page[MemberOut].from_rows(
        rows, limit, lambda r: MemberOut.model_validate(r, from_attributes=True), created_cursor
    )


async def update_member(tx: Tx, member_id: uuid.UUID, body: MemberUpdate, audit: RequestAudit) -> MemberOut:
    audit.resource = f"member:{member_id}"
    changes = body.model_dump(exclude_unset=True, mode="json")
    audit.details = {"changes": changes}
    current = await repository.get_member(tx.conn, member_id)
    if current is None:
        raise NotFound("No member with that id")
    if current.kind == MemberKind.association and changes.get("status") == MemberStatus.suspended:
        raise Conflict("The association member cannot be suspended")
    row = await repository.update_member(tx.conn, member_id, changes)
    assert row is not None
    if any(
        changes.get(k, getattr(current, k)) != getattr(current, k)
        for k in ("status", "quota_exposure_per_minute", "quota_writes_per_second")
    ):
        await announce_change(tx)
    return MemberOut.model_validate(row, from_attributes=True)


async def create_client(
    tx: Tx, member_id: uuid.UUID, body: ClientCreate, audit: RequestAudit, idempotency: IdempotencyKey | None = None
) -> ClientCreated:
    """A retry with the same Idempotency-Key does not create a second client; since the secret
    is never stored, the retry is told which client was created instead of seeing it again."""
    claim, replay = await idempotency_service.claim(
        tx, idempotency, {"member_id": str(member_id), **body.model_dump(mode="json")}
    )
    if replay is not None:
        raise Conflict(
            f"This Idempotency-Key already created client {replay['client_id']}; its secret was shown once. "
            "Revoke it and create another if the secret was lost."
        )
    member = await repository.get_member(tx.conn, member_id)
    if member is None:
        raise NotFound("No member with that id")
    scopes = [s.value for s in body.scopes]
    if Scope.ADMIN.value in scopes and member.kind != MemberKind.association:
        raise Invalid(
            "Only the association's clients may hold the admin scope",
            errors=[FieldError(field="scopes", message="admin is reserved to the association")],
        )
    if body.public_jwk is not None:
        try:
            public_key_of(body.public_jwk)
        except InvalidJwk as exc:
            raise Invalid(
                "The public key is not acceptable", errors=[FieldError(field="public_jwk", message=str(exc))]
            ) from None
        secret, secret_hash, jwk = None, None, body.public_jwk
    else:
        secret = new_client_secret()
        secret_hash, jwk = hash_secret(secret), None
    row = await repository.insert_client(tx.conn, member_id, new_client_id(), body.name, scopes, secret_hash, jwk)
    audit.resource = f"client:{row.client_id}"
    audit.details = {"member_id": str(member_id), "scopes": scopes, "auth_method": row.auth_method}
    created = ClientCreated(**rows.as_dict(row), client_secret=secret)
    await idempotency_service.complete(tx, claim, 201, created.model_dump(mode="json", exclude={"client_secret"}))
    return created


async def list_clients(tx: Tx, member_id: uuid.UUID, audit: RequestAudit) -> list[ClientOut]:
    audit.resource = f"member:{member_id}"
    if await repository.get_member(tx.conn, member_id) is None:
        raise NotFound("No member with that id")
    return [
        ClientOut.model_validate(r, from_attributes=True) for r in await repository.list_clients(tx.conn, member_id)
    ]


async def revoke_client(tx: Tx, client_id: str, audit: RequestAudit) -> ClientOut:
    audit.resource = f"client:{client_id}"
    row = await repository.revoke_client(tx.conn, client_id)
    if row is None:
        raise NotFound("No client with that id")
    await announce_change(tx)
    return ClientOut.model_validate(row, from_attributes=True)
