"""Shapes shared by every part of the API."""

from __future__ import annotations

from registry_client.types._models import ResponseModel


class FieldError(ResponseModel):
    """One reason a field was refused: `field` is a dot path such as `records.3.status`."""

    field: str
    message: str
