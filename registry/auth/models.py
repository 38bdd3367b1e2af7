"""Tables of the auth domain: `client_assertions`, the used `jti` of private_key_jwt
assertions, kept until they expire so none is accepted twice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from registry.core.tables import SQLModel, column


class ClientAssertion(SQLModel, table=True):
    __tablename__ = "client_assertions"

    client_id: str = column(sa.Text, primary_key=True)
    jti: str = column(sa.Text, primary_key=True)
    expires_at: datetime = column(sa.TIMESTAMP(timezone=True))
