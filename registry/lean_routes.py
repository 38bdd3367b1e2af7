"""Lean routes: the operations a member calls before every loan (`POST /v1/exposure`,
`POST /v1/collateral/exposure`) answered without FastAPI's routing and dependency solving,
which cost a single-subject query more CPU than the query's own work (docs/performance.md,
issue 18 §2).

A lean route is an ordinary FastAPI route, marked with `@lean(scope, action)` under its
`@router.post`: it stays in the OpenAPI document, and with `REGISTRY_LEAN_ROUTES=false` it is
what answers. `LeanRoutes`, the innermost middleware (inside the request id, metrics, NUL
guard and body limit), answers a request for a lean route's exact method and path itself,
doing what FastAPI would do for it, in FastAPI's order:

1. read the body, JSON by its content type (a body that is no JSON: the same 422);
2. refuse unknown query parameters (the app-wide dependency, `registry.core.query`);
3. declare the route's audit action;
4. authenticate the bearer token and check the scope (`registry.auth.deps.authorized`, what
   `require` calls);
5. the member's context without a request transaction (`registry.context`);
6. validate the body with the route's own body field (FastAPI's function: the same 422);
7. call the route's endpoint, `(body, ctx) -> Response`.

A failure goes to the app's own exception handlers, looked up as Starlette does, so the
problem answer and the audit of the failure are those of every route.
`tests/core/test_lean_routes.py` sends the same requests down both paths and compares the
answers and the audit rows."""

from __future__ import annotations

import email.message
import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.audit.actions import AuditAction
from registry.audit.declare import request_audit
from registry.auth.deps import authorized
from registry.auth.principal import Scope as TokenScope
from registry.context import without_transaction
from registry.core.query import refuse_unknown_query_parameters

_MARK = "__lean_route__"


@dataclass(frozen=True, slots=True)
class LeanSpec:
    """What the lean path must check that the route's dependencies declare."""

    scope: TokenScope
    action: AuditAction


def lean(scope: TokenScope, action: AuditAction) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an endpoint `(body, ctx)` for the lean path; `scope` and `action` must be those its
    context and `audited` declare (the parity test sends both paths the same requests)."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        if len(inspect.signature(endpoint).parameters) != 2:
            raise TypeError(f"a lean endpoint takes (body, ctx): {endpoint.__qualname__}")
        setattr(endpoint, _MARK, LeanSpec(scope, action))
        return endpoint

    return mark


@dataclass(frozen=True)
class _Lean:
    route: APIRoute
    spec: LeanSpec
    embed_body_fields: bool


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, in the routers it includes too (FastAPI keeps an included
    router whole, as `original_router`, and sets the APIRoute itself as the scope's `route`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def lean_routes(app: FastAPI) -> dict[tuple[str, str], _Lean]:
    """The app's lean routes by (method, path)."""
    found: dict[tuple[str, str], _Lean] = {}
    for route in _api_routes(app.routes):
        spec = getattr(route.endpoint, _MARK, None)
        if spec is not None:
            if "{" in route.path or not route.body_field:
                raise TypeError(f"a lean route has a fixed path and a body: {route.path}")
            for method in route.methods:
                found[(method, route.path)] = _Lean(route, spec, bool(getattr(route, "_embed_body_fields", False)))
    return found


class LeanRoutes:
    """The innermost middleware: answers lean routes itself, passes everything else on.
    `routes` is `lean_routes(app)`, filled in by the app factory once its routers are included
    (the middleware is added before them, to be the innermost)."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI, routes: dict[tuple[str, str], _Lean]) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.routes.get((scope["method"], scope["path"]))
            if found is not None:
                await self._answer(found, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, found: _Lean, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = found.route  # the metrics label and the audit's route template
        scope["path_params"] = {}
        scope["app"] = self.fastapi_app
        request = Request(scope, receive)
        try:
            body = await _json_body(request)
            await refuse_unknown_query_parameters(request)
            request_audit(request).action = found.spec.action
            caller = await authorized(request, request.headers.get("authorization") or None, found.spec.scope)
            ctx = await without_transaction(request, caller, caller.as_member())
            values, errors = await request_body_to_args(
                found.route.dependant.body_params, body, found.embed_body_fields
            )
            if errors:
                raise RequestValidationError(errors, body=body)
            (value,) = values.values()
            response = await found.route.endpoint(value, ctx)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for `exc`, looked up by its class's MRO as Starlette does."""
        handlers = self.fastapi_app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None


async def _json_body(request: Request) -> Any:
    """The body as FastAPI reads a JSON body: parsed when the content type is JSON, else the
    bytes (which then fail validation); no body is missing. orjson parses what it can; what it
    refuses is parsed again as FastAPI does (json.loads), for the same answer and message."""
    try:
        raw = await request.body()
        if not raw:
            return PydanticUndefined  # what FastAPI validates as a missing body
        content_type = request.headers.get("content-type")
        if content_type != "application/json" and not _is_json(content_type):
            return raw
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ],
            body=exc.doc,
        ) from exc
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False  # FastAPI's strict content type: no type, no JSON
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")
