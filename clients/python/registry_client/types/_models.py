"""The two model bases: strict for what the SDK sends, lenient for what it receives."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A body the SDK sends. Unknown fields are refused here, as the registry refuses them."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """A body the registry answers.

    Extra fields are kept, not refused, so a registry that adds a field does not
    break clients released before it. Ids are opaque strings whatever their wire type.
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)
