"""The `rate_counters` table: hits per bucket and fixed window, one row per connection
(`shard`) so that concurrent requests of one member never wait on one hot row; a limit is
checked against the sum over shards. Unlogged: a crash forgets at most one window."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from registry.core.tables import SQLModel, column


class RateCounter(SQLModel, table=True):
    __tablename__ = "rate_counters"

    bucket: str = column(sa.Text, primary_key=True)
    window_start: datetime = column(sa.TIMESTAMP(timezone=True), primary_key=True)
    shard: int = column(sa.Integer, primary_key=True)
    hits: int = column(sa.Integer)
