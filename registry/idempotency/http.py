"""The Idempotency-Key request header, as routes that create declare it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description=(
            "Retry-safe key (1-255 visible ASCII characters), scoped to the member and route: a retry with the "
            "same key and body replays the first answer and writes nothing; another body is 422; a retry while "
            "the first request still runs is 409"
        ),
        examples=["6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"],
    ),
]
