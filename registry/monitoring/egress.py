"""Where webhook deliveries may connect: public addresses only, so a member's webhook URL
cannot make the registry send requests into its own network (loopback is allowed as well
in development and test, where receivers run locally).

The rule is applied to the addresses a host name resolves to, when the connection is made,
and the connection goes to an address that passed: a name cannot pass a check and then
resolve elsewhere for the request (DNS rebinding). Registration applies the same rule to
what the name resolves to then, for an early and clear refusal."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from registry.config import Environment

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


def loopback_allowed(env: Environment) -> bool:
    """Development and test run their receivers locally."""
    return env in (Environment.development, Environment.test)


def address_allowed(address: IPAddress, *, relaxed: bool) -> bool:
    """Public (globally routable) addresses; loopback too when `relaxed`."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address.is_global or (relaxed and address.is_loopback)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal resolves to itself), in the resolver's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # without an IPv6 zone
        if address not in addresses:
            addresses.append(address)
    return addresses


def refused_addresses(addresses: Iterable[IPAddress], *, relaxed: bool) -> list[IPAddress]:
    return [a for a in addresses if not address_allowed(a, relaxed=relaxed)]


class PublicAddressBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving names itself: a connection is refused when any
    address of the name is not allowed, and otherwise made to one of those addresses (TLS
    still verifies the certificate against the name)."""

    def __init__(self, *, relaxed: bool, resolver: Resolver = resolve) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._relaxed = relaxed
        self._resolve = resolver

    async def connect_tcp(  # the httpcore backend interface names its `timeout`
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self._resolve(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved: {exc}") from exc
        refused = refused_addresses(addresses, relaxed=self._relaxed)
        if refused or not addresses:
            raise httpcore.ConnectError(
                f"{host} resolves to {refused[0] if refused else 'nothing'}: webhooks may only reach public addresses"
            )
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(  # the httpcore backend interface names its `timeout`
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def webhook_transport(*, relaxed: bool, resolver: Resolver = resolve) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (its error mapping, pooling and TLS) over PublicAddressBackend.
    httpx takes no network backend, so its connection pool is replaced by an identical one
    that has it; tests/monitoring/test_webhook_egress.py fails if that stops taking effect."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(  # see the docstring
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=PublicAddressBackend(relaxed=relaxed, resolver=resolver),
    )
    return transport
