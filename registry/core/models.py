"""The service's own table: the key that proves the row-level-security context
(registry.core.tenancy). Owned by the role that bypasses row-level security and readable by
it alone: the service's request login cannot read it, so SQL running as that login cannot
make a proof."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from registry.core.tables import SQLModel, column


class ContextKey(SQLModel, table=True):
    __tablename__ = "registry_context_key"
    __table_args__ = (sa.CheckConstraint("id", name="single_row"),)

    id: bool = column(sa.Boolean, primary_key=True, server_default=sa.true())
    key: bytes = column(pg.BYTEA)
    # HMAC-SHA256's padded keys, so that SQL computes the HMAC with sha256() alone.
    inner_pad: bytes = column(pg.BYTEA)
    outer_pad: bytes = column(pg.BYTEA)
