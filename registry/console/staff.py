"""Rules of staff accounts: who may sign in to the console, and how.

A password is random and hashed with argon2id; the TOTP secret (RFC 6238: 6 digits, 30 s,
SHA-1) is sealed under K_server. A code is accepted one step either side of now, and only
once: the step it matched is stored and no code of that step or an earlier one works again.
A wrong password, a wrong code, a disabled account and an unknown email fail alike, and an
unknown email costs the same argon2 verification as a known one."""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

import asyncpg
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from registry.console import repository
from registry.console.repository import StaffRow
from registry.core.errors import Conflict, FieldError, Invalid, NotFound
from registry.monitoring.sealing import seal, unseal

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")

_hasher = PasswordHasher()  # argon2id, the library's recommended parameters


class Role(StrEnum):
    admin = "admin"
    dispute_officer = "dispute_officer"
    analyst = "analyst"
    auditor = "auditor"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an account's holder is given once: the password and the TOTP secret."""

    email: str
    role: str
    password: str
    totp_secret: str

    def as_json(self) -> dict[str, str]:
        return {"email": self.email, "role": self.role, "password": self.password, "totp_secret": self.totp_secret}


@dataclass(frozen=True, slots=True)
class StaffOut:
    email: str
    role: str
    status: str
    created_at: datetime

    def as_json(self) -> dict[str, str]:
        return {
            "email": self.email,
            "role": self.role,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
        }


def normalized_email(email: str) -> str:
    value = email.strip().lower()
    if not EMAIL.match(value):
        raise Invalid("Not an email address", errors=[FieldError(field="email", message="not an email address")])
    return value


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _context(email: str) -> bytes:
    return b"staff-totp|" + email.encode()


def _new_credentials(server_key: bytes, email: str) -> tuple[str, str, str, bytes]:
    password = secrets.token_urlsafe(18)
    totp_secret = pyotp.random_base32()
    return password, totp_secret, _hasher.hash(password), seal(server_key, totp_secret.encode(), _context(email))


def totp_secret_of(server_key: bytes, row: StaffRow) -> str:
    return unseal(server_key, row.totp_sealed, _context(row.email)).decode()


def _out(row: StaffRow) -> StaffOut:
    return StaffOut(row.email, row.role, row.status, row.created_at)


async def create(conn: asyncpg.Connection, server_key: bytes, email: str, role: Role) -> Credentials:
    email = normalized_email(email)
    password, secret, password_hash, sealed = await asyncio.to_thread(_new_credentials, server_key, email)
    if await repository.insert_staff(conn, email, role.value, password_hash, sealed) is None:
        raise Conflict(f"A staff account for {email} already exists")
    return Credentials(email, role.value, password, secret)


async def list_all(conn: asyncpg.Connection) -> list[StaffOut]:
    return [_out(r) for r in await repository.list_staff(conn)]


async def disable(conn: asyncpg.Connection, email: str, now: datetime) -> StaffOut:
    row = await repository.set_status(conn, normalized_email(email), "disabled")
    if row is None:
        raise NotFound(f"No staff account for {email}")
    await repository.end_sessions_of(conn, row.id, now)
    return _out(row)


async def reset(conn: asyncpg.Connection, server_key: bytes, email: str, now: datetime) -> Credentials:
    """A new password and TOTP secret; the account's sessions end, and it is active again."""
    email = normalized_email(email)
    password, secret, password_hash, sealed = await asyncio.to_thread(_new_credentials, server_key, email)
    row = await repository.reset_credentials(conn, email, password_hash, sealed)
    if row is None:
        raise NotFound(f"No staff account for {email}")
    await repository.set_status(conn, email, "active")
    await repository.end_sessions_of(conn, row.id, now)
    return Credentials(email, row.role, password, secret)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now, or one either side) whose code is `code`."""
    if not (len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


async def authenticate(
    conn: asyncpg.Connection, server_key: bytes, email: str, password: str, code: str, now: datetime
) -> tuple[StaffRow | None, str]:
    """(the account, "") when the password and code are right and the account active; else
    (None, why) — the why is for the audit log only, never for the person signing in."""
    row = await repository.get_staff(conn, email.strip().lower())
    if row is None:
        await asyncio.to_thread(_password_matches, _dummy_hash(), password)
        return None, "unknown account"
    if not await asyncio.to_thread(_password_matches, row.password_hash, password):
        return None, "wrong password"
    if row.status != "active":
        return None, "account disabled"
    step = matching_step(totp_secret_of(server_key, row), code.strip(), now)
    if step is None:
        return None, "wrong code"
    if not await repository.use_totp_step(conn, row.id, step):
        return None, "code already used"
    return row, ""
