"""Turning a form into an API shape: a pydantic error becomes the same 422 problem the API
answers (the console shows it as a page)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from registry.core.errors import FieldError, Invalid

M = TypeVar("M", bound=BaseModel)


def parsed(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            FieldError(field=".".join(str(p) for p in e["loc"]) or "form", message=e["msg"]) for e in exc.errors()
        ]
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors) from None
