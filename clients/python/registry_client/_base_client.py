"""What the sync and async clients share: configuration, access tokens, retries, error mapping.

Every API call is written once, as a *flow*: a generator that yields the next
thing to do (send an `httpx.Request`, or `Sleep`) and is sent the response
back. `SyncAPIClient` runs flows with blocking I/O and `AsyncAPIClient` with
`await`; neither holds any logic of its own, so retry, token and idempotency
rules cannot drift apart between the two. (httpx's `Auth.auth_flow` drives
sync and async authentication the same way.)
"""

from __future__ import annotations

import asyncio
import base64
import copy
import inspect
import logging
import math
import os
import platform
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, Generic, Self, TypedDict, TypeVar
from urllib.parse import quote, quote_plus

import httpx
from pydantic import BaseModel

from registry_client import identity
from registry_client._assertions import ASSERTION_TYPE, PrivateKey
from registry_client._exceptions import (
    APIConnectionError,
    APITimeoutError,
    RegistryError,
    status_error_from,
)
from registry_client._logging import configure_from_environment, logger
from registry_client._version import __version__

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)

DEFAULT_MAX_RETRIES = 2
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A longer Retry-After is capped, not obeyed: a caller blocked for minutes is worse off than
# one that tries once more.
MAX_RETRY_AFTER = 60.0
# Renew this long before expiry, so a token never expires between being read and being checked.
TOKEN_RENEW_MARGIN = 60.0

# 409 is retried because the registry answers it to a request that races another with the
# same Idempotency-Key; the retry then gets the stored first answer.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

TOKEN_PATH = "/oauth/token"


class CallOptions(TypedDict, total=False):
    """What any one call may change for itself (keyword arguments of every resource method).

    `timeout` replaces the client's for this call; `extra_headers` are added to its
    requests (never to the token request); `idempotency_key` replaces the generated key of
    a mutating call, e.g. to make a call that may be repeated after a crash apply once.
    """

    timeout: float | httpx.Timeout
    extra_headers: Mapping[str, str]
    idempotency_key: str


# The options of the call being run, set by `_run` for its duration. Flows are written once
# for both runners, so the options reach `_build_request` this way rather than through the
# argument list of every flow; a context variable keeps concurrent async calls apart.
_CALL_OPTIONS: ContextVar[CallOptions | None] = ContextVar("registry_call_options", default=None)
# How many mutating requests the call being run has sent: a caller's idempotency key names the
# first, and KEY.2, KEY.3, ... the next (a submit of more than 1000 items is several requests).
_MUTATIONS: ContextVar[list[int] | None] = ContextVar("registry_mutations", default=None)
# Where `with_raw_response` collects the answers of the call it wraps.
_RAW_RESPONSES: ContextVar[list[httpx.Response] | None] = ContextVar(
    "registry_raw_responses", default=None
)


@dataclass(frozen=True, slots=True)
class Sleep:
    """A flow step: wait this long before the next attempt."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Streamed:
    """A flow step: send this request and hand back a success unread, for the caller to read
    as it goes (an error answer is read whole, as any other)."""

    request: httpx.Request


Step = httpx.Request | Streamed | Sleep
Flow = Generator[Step, httpx.Response | None, T]
# A request body produced as it is sent. A factory, not the chunks themselves: each attempt
# calls it again, because a retry cannot replay a stream the failed attempt consumed.
BodyFactory = Callable[[], Iterator[bytes]]


@dataclass(frozen=True, slots=True)
class RequestOptions:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    # A factory when each attempt needs a new body (a client assertion is usable once).
    form: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    authenticated: bool = True
    content: BodyFactory | None = None
    stream: bool = False  # hand back a success unread (see `Streamed`)


@dataclass(frozen=True, slots=True)
class _AccessToken:
    value: str
    renew_at: float  # on the client's monotonic clock


@dataclass(slots=True)
class _TokenCache:
    """The access token, shared by a client and the copies `with_options` makes of it."""

    token: _AccessToken | None = None


@dataclass(frozen=True, slots=True)
class APIResponse(Generic[T]):
    """What `client.with_raw_response.<resource>.<method>(...)` returns: the HTTP answer
    (the last one, for a call made of several requests) beside the parsed body."""

    status: int
    headers: httpx.Headers
    parsed: T
    http_response: httpx.Response

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")


def _setting(value: str | None, env: str) -> str | None:
    return value if value is not None else (os.environ.get(env) or None)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After (delta-seconds or HTTP-date) in seconds, capped; None if absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def backoff_seconds(retries_taken: int) -> float:
    """Exponential backoff from 0.5 s to 8 s, jittered within each doubling so that
    members retrying after the same outage do not all come back at the same instant."""
    floor = min(INITIAL_RETRY_DELAY * 2**retries_taken, MAX_RETRY_DELAY)
    return random.uniform(floor, min(2 * floor, MAX_RETRY_DELAY))


def path_segment(value: object) -> str:
    """An id made safe to place in a URL path: a `/` or `..` in it cannot reach another route."""
    return quote(str(value), safe="")


def _basic_credentials(client_id: str, client_secret: str) -> str:
    # RFC 6749 §2.3.1: each part is form-urlencoded before Basic encoding.
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _nth_key(chosen: str) -> str:
    sent = _MUTATIONS.get()
    if sent is None:
        return chosen
    sent[0] += 1
    return chosen if sent[0] == 1 else f"{chosen}.{sent[0]}"


def _log_response(request: httpx.Request, response: httpx.Response, seconds: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "response %d %s %s in %.3f s request_id=%s",
            response.status_code,
            request.method,
            request.url.path,
            seconds,
            response.headers.get("x-request-id", "-"),
        )


class BaseClient(Generic[HttpClientT]):
    """Configuration and the flows every call is made of; subclasses only perform the steps."""

    _http: HttpClientT

    def __init__(
        self,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        hashing_key: bytes | str | None = None,
        *,
        private_key: Any = None,
        scope: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: HttpClientT | None = None,
    ) -> None:
        """Arguments left as None come from REGISTRY_URL, REGISTRY_CLIENT_ID,
        REGISTRY_CLIENT_SECRET, REGISTRY_PRIVATE_KEY (PEM) and REGISTRY_HASHING_KEY.

        `private_key` (PEM text or bytes, or a `cryptography` Ed25519 / P-256 private key)
        authenticates with `private_key_jwt` (RFC 7523) instead of a secret;
        `hashing_key` (K_assoc, bytes or 64 hex) is needed only by `subject()`;
        `scope` narrows the access token to fewer scopes than the client holds;
        `http_client` is used as given and left open on `close()`.
        """
        url = _setting(base_url, "REGISTRY_URL")
        if url is None:
            raise RegistryError("No registry URL: pass base_url or set REGISTRY_URL")
        self.base_url = httpx.URL(url.rstrip("/") + "/")
        if self.base_url.scheme not in ("http", "https") or not self.base_url.host:
            raise RegistryError(f"Registry URL {url!r} is not an http:// or https:// URL")
        self.client_id = _setting(client_id, "REGISTRY_CLIENT_ID")
        self._client_secret = _setting(client_secret, "REGISTRY_CLIENT_SECRET")
        pem = private_key if private_key is not None else _setting(None, "REGISTRY_PRIVATE_KEY")
        # Read now, so that a wrong key fails at start-up rather than at the first call.
        self._private_key = PrivateKey(pem) if pem is not None else None
        key = hashing_key if hashing_key is not None else _setting(None, "REGISTRY_HASHING_KEY")
        # Checked now so that a mistyped key fails at start-up, not at the first borrower.
        self._hashing_key = identity.parse_key(key) if key is not None else None
        self.scope = scope
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self._tokens = _TokenCache()
        self._timeout: float | httpx.Timeout | None = None  # set by with_options
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._new_http_client(timeout)
        configure_from_environment()

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> Self:
        """A client like this one with another timeout or retry budget, for the calls made
        through it: `client.with_options(timeout=120, max_retries=5).uploads.upload(path)`.

        It shares this client's connections and access token; closing it closes nothing.
        """
        clone = copy.copy(self)
        # Resources are cached per client and hold the client they were made for.
        for name, attribute in inspect.getmembers(type(self)):
            if isinstance(attribute, cached_property):
                clone.__dict__.pop(name, None)
        if timeout is not None:
            clone._timeout = timeout
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must be 0 or more")
            clone.max_retries = max_retries
        clone._owns_http = False
        return clone

    def _new_http_client(self, timeout: float | httpx.Timeout) -> HttpClientT:
        raise NotImplementedError

    def __repr__(self) -> str:
        # Never the secret, the private key or the hashing key.
        return (
            f"{type(self).__name__}(base_url={str(self.base_url)!r}, client_id={self.client_id!r})"
        )

    @property
    def _access_token(self) -> _AccessToken | None:
        return self._tokens.token

    @_access_token.setter
    def _access_token(self, value: _AccessToken | None) -> None:
        self._tokens.token = value

    def subject(self, kind: str, value: str) -> str:
        """The brs1 token of an identity under the configured hashing key.

        Raises `InvalidIdentity` when the value is not a valid identity of that kind.
        """
        if self._hashing_key is None:
            raise RegistryError("No hashing key: pass hashing_key or set REGISTRY_HASHING_KEY")
        return identity.token(kind, value, self._hashing_key)

    def _now(self) -> float:
        return time.monotonic()

    @property
    def _default_headers(self) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "User-Agent": f"registry-client/{__version__} python/{platform.python_version()}",
        }

    def _build_request(self, options: RequestOptions, headers: Mapping[str, str]) -> httpx.Request:
        call = _CALL_OPTIONS.get() or {}
        # Never on the token request: a caller's headers are for the API call they made.
        extra = (call.get("extra_headers") or {}) if options.authenticated else {}
        timeout = call.get("timeout", self._timeout)
        form = options.form() if callable(options.form) else options.form
        return self._http.build_request(
            options.method,
            self.base_url.join(options.path.lstrip("/")),
            params={k: v for k, v in (options.params or {}).items() if v is not None},
            json=options.json,
            data=form,
            content=self._stream_body(options.content()) if options.content else None,
            headers={**self._default_headers, **options.headers, **extra, **headers},
            # httpx's own sentinel means "the http client's timeout".
            **({"timeout": timeout} if timeout is not None else {}),
        )

    def _stream_body(self, chunks: Iterator[bytes]) -> Any:
        """The body in the form this client's httpx client sends (an iterator, or an async one)."""
        raise NotImplementedError

    def _request_flow(self, options: RequestOptions) -> Flow[httpx.Response]:
        """Send one call: authenticate, retry what is worth retrying, raise what is not."""
        headers: dict[str, str] = {}
        if options.authenticated and options.method in MUTATING_METHODS:
            # One key for the whole call: a retry of a request that did land is not applied twice.
            chosen = (_CALL_OPTIONS.get() or {}).get("idempotency_key")
            headers["Idempotency-Key"] = _nth_key(chosen) if chosen else str(uuid.uuid4())
        retries_taken = 0
        renewed_after_401 = False
        while True:
            if options.authenticated:
                access_token = yield from self._access_token_flow()
                headers["Authorization"] = f"Bearer {access_token}"
            request = self._build_request(options, headers)
            logger.debug("request %s %s", request.method, request.url.path)
            started = time.monotonic()
            try:
                response = yield Streamed(request) if options.stream else request
            except httpx.TimeoutException as exc:
                if retries_taken >= self.max_retries:
                    raise APITimeoutError(request=request) from exc
                delay = backoff_seconds(retries_taken)
                reason = "timeout"
            except httpx.TransportError as exc:
                if retries_taken >= self.max_retries:
                    raise APIConnectionError(
                        f"Connection to the registry failed: {exc}", request=request
                    ) from exc
                delay = backoff_seconds(retries_taken)
                reason = type(exc).__name__
            else:
                assert response is not None
                _log_response(request, response, time.monotonic() - started)
                if response.status_code == 401 and options.authenticated and not renewed_after_401:
                    # The signing key may have rotated under the token: one fresh token, once.
                    renewed_after_401 = True
                    self._access_token = None
                    logger.debug("renewing the access token after a 401")
                    continue
                if not self._should_retry(response) or retries_taken >= self.max_retries:
                    if response.is_error:
                        raise status_error_from(response)
                    if options.authenticated and (raw := _RAW_RESPONSES.get()) is not None:
                        raw.append(response)
                    return response
                retry_after = retry_after_seconds(response.headers)
                delay = backoff_seconds(retries_taken) if retry_after is None else retry_after
                reason = str(response.status_code)
            retries_taken += 1
            logger.debug(
                "retry %d of %s %s in %.2f s (%s)",
                retries_taken,
                request.method,
                request.url.path,
                delay,
                reason,
            )
            yield Sleep(delay)

    @staticmethod
    def _should_retry(response: httpx.Response) -> bool:
        if not response.is_error:
            return False
        # The server may say outright; a 409 for a duplicate member code, say, never clears.
        verdict: str | None = response.headers.get("x-should-retry")
        if verdict in ("true", "false"):
            return verdict == "true"
        return response.status_code in RETRYABLE_STATUSES or response.status_code >= 500

    def _access_token_flow(self) -> Flow[str]:
        """A valid access token: the cached one, or a new one from the client-credentials grant."""
        # Concurrent async calls that find no valid token may each fetch one; every token
        # issued is valid, so that costs one extra request rather than needing a lock.
        if self._access_token is not None and self._now() < self._access_token.renew_at:
            return self._access_token.value
        requested_at = self._now()
        response = yield from self._request_flow(self._token_request())
        grant = response.json()
        if not isinstance(grant, dict) or not isinstance(grant.get("access_token"), str):
            raise RegistryError("The token endpoint answered without an access_token")
        lifetime = float(grant.get("expires_in") or 0)
        margin = min(TOKEN_RENEW_MARGIN, lifetime / 2)
        # Timed from the request, not the answer, so network delay counts against the token's life.
        self._access_token = _AccessToken(grant["access_token"], requested_at + lifetime - margin)
        return self._access_token.value

    def _token_request(self) -> RequestOptions:
        """The client-credentials grant, authenticated by secret (HTTP Basic) or by a signed
        assertion (`private_key_jwt`, a new one for each attempt)."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        client_id, private_key = self.client_id, self._private_key
        if client_id and private_key is not None:
            audience = str(self.base_url.join(TOKEN_PATH.lstrip("/")))

            def signed_form() -> dict[str, str]:
                return {
                    **form,
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": private_key.assertion(client_id, audience),
                }

            return RequestOptions("POST", TOKEN_PATH, form=signed_form, authenticated=False)
        if not client_id or not self._client_secret:
            raise RegistryError(
                "No client credentials: pass client_id and client_secret (or private_key), "
                "or set REGISTRY_CLIENT_ID and REGISTRY_CLIENT_SECRET"
            )
        return RequestOptions(
            "POST",
            TOKEN_PATH,
            form=form,
            headers={"Authorization": _basic_credentials(client_id, self._client_secret)},
            authenticated=False,
        )

    def _model_flow(
        self,
        cast: type[M],
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Flow[M]:
        response = yield from self._request_flow(
            RequestOptions(method, path, params=params, json=json)
        )
        return cast.model_validate_json(response.content)

    def _no_content_flow(self, method: str, path: str) -> Flow[None]:
        yield from self._request_flow(RequestOptions(method, path))


class SyncAPIClient(BaseClient[httpx.Client]):
    """Runs flows with blocking I/O."""

    def _new_http_client(self, timeout: float | httpx.Timeout) -> httpx.Client:
        return httpx.Client(timeout=timeout)

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _stream_body(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        return chunks

    def _send_streamed(self, request: httpx.Request) -> httpx.Response:
        response = self._http.send(request, stream=True)
        if response.is_error:
            response.read()
        return response

    def _run(self, flow: Flow[T], options: CallOptions | None = None) -> T:
        """Run a call's flow to its end, with this call's `options`."""
        scope = _CALL_OPTIONS.set(options) if options else None
        counted = _MUTATIONS.set([0]) if options and "idempotency_key" in options else None
        try:
            return self._run_steps(flow)
        finally:
            if counted is not None:
                _MUTATIONS.reset(counted)
            if scope is not None:
                _CALL_OPTIONS.reset(scope)

    def _run_steps(self, flow: Flow[T]) -> T:
        try:
            step = next(flow)
            while True:
                try:
                    if isinstance(step, Sleep):
                        self._sleep(step.seconds)
                        step = flow.send(None)
                    elif isinstance(step, Streamed):
                        step = flow.send(self._send_streamed(step.request))
                    else:
                        step = flow.send(self._http.send(step))
                except httpx.TransportError as exc:
                    step = flow.throw(exc)
        except StopIteration as done:
            result: T = done.value
            return result

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """Runs flows with `await`."""

    def _new_http_client(self, timeout: float | httpx.Timeout) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _stream_body(self, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
        # Each chunk is produced in a worker thread: reading and compressing a file must not
        # block the event loop.
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk

    async def _send_streamed(self, request: httpx.Request) -> httpx.Response:
        response = await self._http.send(request, stream=True)
        if response.is_error:
            await response.aread()
        return response

    async def _run(self, flow: Flow[T], options: CallOptions | None = None) -> T:
        """See `SyncAPIClient._run`."""
        scope = _CALL_OPTIONS.set(options) if options else None
        counted = _MUTATIONS.set([0]) if options and "idempotency_key" in options else None
        try:
            return await self._run_steps(flow)
        finally:
            if counted is not None:
                _MUTATIONS.reset(counted)
            if scope is not None:
                _CALL_OPTIONS.reset(scope)

    async def _run_steps(self, flow: Flow[T]) -> T:
        try:
            step = next(flow)
            while True:
                try:
                    if isinstance(step, Sleep):
                        await self._sleep(step.seconds)
                        step = flow.send(None)
                    elif isinstance(step, Streamed):
                        step = flow.send(await self._send_streamed(step.request))
                    else:
                        step = flow.send(await self._http.send(step))
                except httpx.TransportError as exc:
                    step = flow.throw(exc)
        except StopIteration as done:
            result: T = done.value
            return result

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
