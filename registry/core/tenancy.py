"""Whose rows a piece of work may touch: `Tenant = Member | Association`, and the proof that
carries it into PostgreSQL's row-level security.

A `Member` sees its own rows; the `Association` (admins, and the few cross-member steps the
service takes on purpose) sees every member's. Only authentication makes a tenant from a
verified token (`registry.auth.deps`); repositories that touch member data take one, so a
bare member id cannot reach them.

Row-level security is the second wall. Its context is not a plain setting that SQL could
forge: the service proves each entry with an HMAC (under a key only the service and the
database's owning role can read) over the member, the scope, the client and an expiry, and
the SECURITY DEFINER function `registry_enter` checks the proof and seals the context to
the current transaction (migration 0011)."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import asyncpg

# How long a proof stays acceptable: long enough for any clock skew between the service and
# the database, short enough that a proof is useless later.
PROOF_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Member:
    """One member's rows."""

    member_id: uuid.UUID

    @property
    def association(self) -> Literal[False]:
        return False


@dataclass(frozen=True, slots=True)
class Association:
    """Every member's rows; `member_id` is the association member that acts."""

    member_id: uuid.UUID

    @property
    def association(self) -> Literal[True]:
        return True

    def acting_for(self, member_id: uuid.UUID) -> Member:
        """The association writing one member's rows on its behalf (a dispute's correction)."""
        return Member(member_id)


Tenant = Member | Association


def only_member(tenant: Tenant) -> uuid.UUID | None:
    """The member whose rows a query keeps (None: every member's); for repositories only."""
    return None if isinstance(tenant, Association) else tenant.member_id


def proof_message(member_id: uuid.UUID, association: bool, client_id: str, expires: int) -> bytes:
    """What a proof signs; the database builds the same text (migration 0011)."""
    scope = "association" if association else "member"
    return f"enter|{member_id}|{scope}|{client_id}|{expires}".encode()


@dataclass(frozen=True)
class ContextProver:
    """Makes the proofs `registry_enter` and `registry_exposure` accept. The key is read once
    at start-up by the service's own login, which may read the key table."""

    key: bytes

    def prove(self, tenant: Tenant, client_id: str) -> tuple[uuid.UUID, bool, str, int, bytes]:
        """(member, association, client, expires, proof): the arguments of `registry_enter`."""
        expires = int(time.time()) + PROOF_SECONDS
        message = proof_message(tenant.member_id, tenant.association, client_id, expires)
        return tenant.member_id, tenant.association, client_id, expires, hmac.digest(self.key, message, "sha256")

    async def enter(self, conn: asyncpg.Connection, tenant: Tenant, client_id: str) -> None:
        """Set whose rows the current transaction sees (until it ends or enters again)."""
        await conn.execute("SELECT registry_enter($1, $2, $3, $4, $5)", *self.prove(tenant, client_id))


async def load_prover(conn: asyncpg.Connection) -> ContextProver:
    """Read the context key (the service's own login, as the owning role)."""
    key = await conn.fetchval("SELECT key FROM registry_context_key")
    if key is None:
        raise RuntimeError("the database has no context key; run the migrations")
    return ContextProver(bytes(key))


@dataclass(frozen=True)
class Tenancy:
    """A tenant with what proves it: enters it in a transaction, and steps across members on
    purpose for the few statements that must (alerts for other members' watchers, a dispute
    covering other lenders' records)."""

    prover: ContextProver
    tenant: Tenant
    client_id: str

    @property
    def member(self) -> Member:
        """The member this work writes for (the association's own member for admins)."""
        return Member(self.tenant.member_id) if isinstance(self.tenant, Association) else self.tenant

    async def enter(self, conn: asyncpg.Connection) -> None:
        await self.prover.enter(conn, self.tenant, self.client_id)

    @asynccontextmanager
    async def across_members(self, conn: asyncpg.Connection) -> AsyncIterator[None]:
        """Association scope for the statements inside, then back to this tenant."""
        if isinstance(self.tenant, Association):
            yield
            return
        await self.prover.enter(conn, Association(self.tenant.member_id), self.client_id)
        try:
            yield
        finally:
            await self.enter(conn)
