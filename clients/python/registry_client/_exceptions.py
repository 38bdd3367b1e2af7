"""The SDK's exceptions: one class per failure a caller may want to handle apart.

Every error answered by the registry is an RFC 9457 problem; its fields and
the request id (to quote to the association's support) travel on the exception.
"""

from __future__ import annotations

from typing import Any

import httpx

from registry_client.types.shared import FieldError

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RegistryError",
    "ServerError",
    "UnprocessableEntity",
    "WebhookSignatureError",
]


class RegistryError(Exception):
    """Base of every error this SDK raises, except `InvalidIdentity` (a `ValueError`)."""


class WebhookSignatureError(RegistryError, ValueError):
    """A webhook delivery whose `Registry-Signature` is missing, malformed, too old, or does
    not match its body: answer it with 4xx and do not act on it."""


class APIConnectionError(RegistryError):
    """The registry could not be reached, or the connection broke before an answer."""

    def __init__(
        self,
        message: str = "Connection to the registry failed",
        *,
        request: httpx.Request | None = None,
    ):
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The registry did not answer within the configured timeout."""

    def __init__(self, *, request: httpx.Request | None = None) -> None:
        super().__init__("The registry did not answer in time", request=request)


class APIStatusError(RegistryError):
    """The registry answered with a 4xx or 5xx status."""

    def __init__(
        self,
        *,
        response: httpx.Response,
        title: str,
        detail: str,
        type: str | None = None,
        request_id: str | None = None,
        errors: list[FieldError] | None = None,
        body: Any = None,
    ) -> None:
        self.response = response
        self.status = response.status_code
        self.title = title
        self.detail = detail
        self.type = type
        self.request_id = request_id
        self.errors = errors or []
        self.body = body
        message = f"{self.status} {title}: {detail}" if detail else f"{self.status} {title}"
        if self.errors:
            message += " (" + "; ".join(f"{e.field}: {e.message}" for e in self.errors) + ")"
        if request_id:
            message += f" [request_id {request_id}]"
        super().__init__(message)


class BadRequest(APIStatusError):
    """400: the request is malformed."""


class AuthenticationError(APIStatusError):
    """401: bad client credentials, or a token the registry no longer accepts."""


class PermissionDenied(APIStatusError):
    """403: authenticated, but the scope or purpose does not allow this."""


class NotFound(APIStatusError):
    """404: no such resource, or not one of the caller's own."""


class Conflict(APIStatusError):
    """409: the request conflicts with the current state (e.g. a duplicate member code)."""


class UnprocessableEntity(APIStatusError):
    """422: the body is well-formed but not valid; `errors` names each field."""


class RateLimited(APIStatusError):
    """429: the member's quota is used up for now."""


class ServerError(APIStatusError):
    """5xx: the registry failed; the request was not applied."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: UnprocessableEntity,
    429: RateLimited,
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def status_error_from(response: httpx.Response) -> APIStatusError:
    """The exception for an error response: problem+json, an OAuth error, or anything else."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {}
    # The token endpoint answers in the RFC 6749 §5.2 form, not as a problem.
    title = (
        _text(problem.get("title"))
        or _text(problem.get("error"))
        or response.reason_phrase
        or "Error"
    )
    detail = _text(problem.get("detail")) or _text(problem.get("error_description"))
    if detail is None:
        detail = "" if body is not None else response.text[:200].strip()
    errors = [
        FieldError.model_validate(item)
        for item in problem.get("errors") or []
        if isinstance(item, dict) and "field" in item and "message" in item
    ]
    request_id = _text(problem.get("request_id")) or response.headers.get("x-request-id")
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls(
        response=response,
        title=title,
        detail=detail,
        type=_text(problem.get("type")),
        request_id=request_id,
        errors=errors,
        body=body,
    )
