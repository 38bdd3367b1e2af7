"""Borrower tokens as the server keeps them: re-keyed with K_server, so a database dump
links to nothing without the server key, even with the association's hashing key."""

from __future__ import annotations

import hmac
import re

TOKEN_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")


def is_token(value: object) -> bool:
    return isinstance(value, str) and TOKEN_PATTERN.match(value) is not None


def subject_key(server_key: bytes, token: str) -> bytes:
    """HMAC-SHA256(K_server, bytes.fromhex(token)); `token` must already be validated."""
    return hmac.digest(server_key, bytes.fromhex(token), "sha256")  # one-shot: runs for every item


class SubjectKeyer:
    """Borrower tokens to subject keys under this service's K_server."""

    __slots__ = ("_server_key",)

    def __init__(self, server_key: bytes) -> None:
        self._server_key = server_key

    def key(self, token: str) -> bytes:
        """The subject key of a validated token (lowercase or not: the bytes are the same)."""
        return subject_key(self._server_key, token)

    def keys(self, tokens: list[str]) -> list[bytes]:
        return [subject_key(self._server_key, token) for token in tokens]
