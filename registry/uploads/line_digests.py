"""Lines the registry already holds, byte for byte: a monthly file is mostly the lines of
last month's, and reading each one into a record again (validation, the borrower's key,
the snapshot and its hash, staging) was most of what a re-upload cost.

Each record keeps the digest of the upload line that last wrote its content
(`records.line_digest`, migration 0018). Before validating a batch of lines, the upload asks
for the lines whose account holds that very digest, in one round trip on a connection of
its own, and counts those unchanged without reading them further.

The digest is keyed: HMAC of the service's server key, the rules' edition and the CSV
columns (or NDJSON) makes the key, and BLAKE2b of the line under it is the digest. So the
same bytes mean the same record only under the same key, rules and columns: a new server
key, a new edition of the rules (registry/records/validation.py) or columns in another
order make every line read in full again once. Nobody without the server key can compute
one, and a stored digest tells nothing of its line.

A line is known by its digest only when no line for the same account waits, uncommitted,
earlier in the file: the answer reads what has committed, and the file's order decides."""

from __future__ import annotations

import hashlib
import hmac
import re

from registry.records.validation import RULES_EDITION

DIGEST_BYTES = 16
# Only an account_ref that could be valid (registry/records/schemas.py) is looked up: any
# other (too long, a NUL or other byte PostgreSQL's text refuses) is validated and refused.
_ACCOUNT_REF = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def line_key(server_key: bytes, columns: list[str] | None) -> bytes:
    """The key of one upload's line digests: its format and columns, under the rules' edition."""
    layout = b"ndjson" if columns is None else b"csv:" + ",".join(columns).encode()
    return hmac.new(server_key, b"upload-line|%d|" % RULES_EDITION + layout, hashlib.sha256).digest()


def line_digest(key: bytes, line: bytes) -> bytes:
    return hashlib.blake2b(line, key=key, digest_size=DIGEST_BYTES).digest()


def lookup_ref(raw: object) -> str | None:
    """The account_ref a decoded line names, when it could be a stored one."""
    if isinstance(raw, dict):
        ref = raw.get("account_ref")
        if isinstance(ref, str) and _ACCOUNT_REF.fullmatch(ref):
            return ref
    return None
