"""The error hierarchy and its one rendering: RFC 9457 `application/problem+json`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:borrower-registry:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Path of the offending field, dot-separated", examples=["records.0.status"])
    message: str = Field(examples=["Input should be 'current', 'dpd_1_30', ..."])


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str = Field(examples=[PROBLEM_TYPE_PREFIX + "not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No member with that id"])
    instance: str | None = Field(default=None, examples=["/admin/members/1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    request_id: str | None = Field(default=None, examples=["01J9Z3K4Q8T7W2"])
    errors: list[FieldError] = Field(default_factory=list)


class Problem(Exception):
    """Base of every error the service answers on purpose."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"
    slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class BadRequest(Problem):
    status, title, slug = 400, "Bad request", "bad-request"


class Unauthenticated(Problem):
    status, title, slug = 401, "Unauthenticated", "unauthenticated"

    def __init__(self, detail: str = "A valid bearer token is required", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    """A conflict with stored state: repeating the request will not help, and clients
    that retry 409s by default are told so."""

    status, title, slug = 409, "Conflict", "conflict"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("X-Should-Retry", "false")


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Invalid(Problem):
    status, title, slug = 422, "Unprocessable content", "invalid"


class RateLimited(Problem):
    status, title, slug = 429, "Too many requests", "rate-limited"


# Seconds a client is asked to wait while the database is unreachable: the embedded
# PostgreSQL is back within a few seconds of dying (registry/core/embedded.py).
RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(Problem):
    """The service cannot answer now; the same request can be sent again after `Retry-After`."""

    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or dropped the connection mid-request. A write may or
    may not have committed when the connection dropped during its commit: clients repeat it
    with the same Idempotency-Key."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The database is unreachable ({reason}); retry shortly")
        self.reason = reason


# What PostgreSQL says when it ends or refuses a connection, in words a client may read
# (never the server's own message: it can name hosts, sockets and roles).
_UNAVAILABLE_SQLSTATES = {
    "57P01": "the server ended the connection",  # shutdown, or pg_terminate_backend
    "57P02": "the server is restarting after a crash",
    "57P03": "the server is starting up or recovering",
    "57P05": "the server ended an idle session",
    "53300": "too many connections",
}


def database_unavailable_reason(exc: BaseException | None) -> str | None:
    """Why, when `exc` (or an exception it was raised from) says that the connection to the
    database is gone or cannot be made; None for every other failure, SQL errors included."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseUnavailable):
            return exc.reason
        if isinstance(exc, asyncpg.PostgresError):
            reason = _UNAVAILABLE_SQLSTATES.get(exc.sqlstate or "")
            if reason is None and isinstance(exc, asyncpg.PostgresConnectionError):  # class 08
                reason = "the connection was lost"
            if reason is not None:
                return reason
        elif isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
            return "the connection was lost"
        elif isinstance(exc, asyncpg.InternalClientError):
            # The server's last words on a connection it is closing (a FATAL sent while the
            # connection sat idle in the pool) leave the client's protocol waiting for a
            # sync that never comes; the next statement on it fails this way, until the
            # connection's end is read and the pool replaces it.
            return "the connection broke"
        exc = exc.__cause__ or exc.__context__
    return None


_HTTP_TITLES = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Invalid,
    429: RateLimited,
    503: ServiceUnavailable,
}


def problem_response(cls: type[Problem]) -> dict[str, Any]:
    """The OpenAPI response object of one problem class."""
    return {
        "description": cls.title,
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/ProblemDetails"},
                "example": {
                    "type": PROBLEM_TYPE_PREFIX + cls.slug,
                    "title": cls.title,
                    "status": cls.status,
                    "detail": "What went wrong, in one sentence",
                    "request_id": "2f1c7d0a9b8e4c3d",
                    "errors": [],
                },
            }
        },
    }


def problem_responses(*classes: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problems a route can answer."""
    return {cls.status: problem_response(cls) for cls in classes}


# The token endpoint is read by RFC 6749 clients, which look for `error`, not a problem type:
# every answer there carries the OAuth error code its status means (RFC 6749 §5.2), also those
# that the shared machinery gives before the endpoint runs (body too large, service unavailable).
OAUTH_ERROR_PATHS = frozenset({"/oauth/token"})
_OAUTH_ERROR_CODES = {401: "invalid_client", 429: "temporarily_unavailable", 503: "temporarily_unavailable"}


def oauth_error_fields(path: str, status: int, detail: str) -> dict[str, str]:
    """`error` and `error_description` for an error answered at `path`, when an OAuth client reads it."""
    if path not in OAUTH_ERROR_PATHS:
        return {}
    code = _OAUTH_ERROR_CODES.get(status, "invalid_request" if status < 500 else "server_error")
    return {"error": code, "error_description": detail}


def request_id_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def render(
    request: Request,
    status: int,
    title: str,
    slug: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id_of(request),
        "errors": [e.model_dump() for e in errors or []],
        **oauth_error_fields(request.url.path, status, detail),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts) or "body"


def located_message(error: Any) -> tuple[tuple[Any, ...], str]:
    """Where one pydantic error is and what it says, in the service's own words: a validator's
    message as it raised it (pydantic prefixes "Value error, "), at the field a model
    validator names (`FieldValueError.field`) rather than at the model's whole body."""
    loc = tuple(error.get("loc", ()))
    message = str(error.get("msg", "invalid value"))
    cause = (error.get("ctx") or {}).get("error")
    if error.get("type") == "json_invalid":
        message = "Body is not valid JSON: " + str(cause or "decode error")
    elif error.get("type") == "value_error" and isinstance(cause, ValueError):
        message = str(cause)
        field = getattr(cause, "field", None)
        if isinstance(field, str):
            loc = (*loc, field)
    return loc, message


def validation_errors(raw: list[Any]) -> list[FieldError]:
    errors = []
    for item in raw:
        loc, message = located_message(item)
        errors.append(FieldError(field=_field_path(loc), message=message))
    return errors


FailureHook = Any  # async callable(request, status) -> None, set by the app


# How long the audit of a request refused for want of a database may take: it is tried (the
# database may be back, or only one connection was lost) but never holds up the answer.
UNAVAILABLE_AUDIT_SECONDS = 1.0


def install_error_handlers(app: FastAPI, on_failure: FailureHook) -> None:
    """One handler map for the whole app; `on_failure` audits failed authenticated requests."""

    async def problem_handler(request: Request, exc: Problem) -> JSONResponse:
        if isinstance(exc, ServiceUnavailable):
            return await unavailable(request, exc)
        await on_failure(request, exc.status, exc.detail)
        return render(request, exc.status, exc.title, exc.slug, exc.detail, exc.errors, exc.headers)

    async def unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        logger.warning("service unavailable: %s", exc.detail, extra={"request_id": request_id_of(request)})
        with contextlib.suppress(Exception):
            async with asyncio.timeout(UNAVAILABLE_AUDIT_SECONDS):
                await on_failure(request, exc.status, exc.detail)
        return render(request, exc.status, exc.title, exc.slug, exc.detail, exc.errors, exc.headers)

    async def database_handler(request: Request, exc: Exception) -> JSONResponse:
        reason = database_unavailable_reason(exc)
        if reason is None:
            raise exc  # a real failure: the catch-all below answers 500
        return await unavailable(request, DatabaseUnavailable(reason))

    async def validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(list(exc.errors()))
        await on_failure(request, 422, "request validation failed")
        return render(request, 422, Invalid.title, Invalid.slug, "The request is not valid", errors)

    async def http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_TITLES.get(exc.status_code)
        title = cls.title if cls else "Error"
        slug = cls.slug if cls else f"http-{exc.status_code}"
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource"
        elif exc.status_code == 405:
            title, slug, detail = "Method not allowed", "method-not-allowed", "This resource does not allow that method"
        await on_failure(request, exc.status_code, detail)
        return render(request, exc.status_code, title, slug, detail, headers=getattr(exc, "headers", None))

    async def unhandled(request: Request, exc: Exception) -> JSONResponse:
        # A lost database reaches here too when it fails another handler (one that writes
        # to the database itself): still a 503, not a 500.
        reason = database_unavailable_reason(exc)
        if reason is not None:
            return await unavailable(request, DatabaseUnavailable(reason))
        logger.exception("unhandled error", extra={"request_id": request_id_of(request)})
        await on_failure(request, 500, "internal error")
        return render(request, 500, Problem.title, Problem.slug, "The service failed; the request was not applied")

    app.add_exception_handler(Problem, problem_handler)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_handler)  # type: ignore[arg-type]
    # Connection-level failures (the server died, restarted, ended the session) are 503s;
    # every other database error falls through to the catch-all.
    app.add_exception_handler(asyncpg.PostgresError, database_handler)
    app.add_exception_handler(asyncpg.InterfaceError, database_handler)
    app.add_exception_handler(asyncpg.InternalClientError, database_handler)
    app.add_exception_handler(Exception, unhandled)
