"""Sealed values: borrower tokens of watches and webhook secrets, encrypted with AES-256-GCM
under a key derived from K_server. The service can open them to tell a member which of its
own borrowers an alert is about, or to sign a delivery; a database dump without K_server
reveals neither. The associated data binds each sealed value to its member (and subject),
so a value copied to another member's row does not open."""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
_KEY_LABEL = b"brs-monitoring-seal-v1"


@lru_cache(maxsize=4)
def _cipher(server_key: bytes) -> AESGCM:
    return AESGCM(hmac.new(server_key, _KEY_LABEL, hashlib.sha256).digest())


def seal(server_key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(server_key).encrypt(nonce, plaintext, context)


def unseal(server_key: bytes, sealed: bytes, context: bytes) -> bytes:
    return _cipher(server_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
