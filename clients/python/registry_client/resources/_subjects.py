"""Lists of borrower tokens as the registry takes them: checked before sending, 1000 a request."""

from __future__ import annotations

from collections.abc import Iterable

from registry_client.identity import is_token

CHUNK_SIZE = 1000


def checked_subjects(subjects: Iterable[str]) -> list[str]:
    """The tokens, lower-cased; ValueError for one that is not a token or repeats another."""
    tokens: list[str] = []
    seen: dict[str, int] = {}
    for index, subject in enumerate(subjects):
        if not is_token(subject):
            # Most often a raw identity passed by mistake: refuse before it leaves the machine.
            raise ValueError(
                f"subjects[{index}] is not a brs1 token (64 hex); "
                "hash identities with client.subject()"
            )
        token = subject.lower()
        if token in seen:
            raise ValueError(f"subjects[{index}] repeats subjects[{seen[token]}]")
        seen[token] = index
        tokens.append(token)
    return tokens


def in_chunks(tokens: list[str]) -> list[list[str]]:
    return [tokens[i : i + CHUNK_SIZE] for i in range(0, len(tokens), CHUNK_SIZE)]
