"""Webhook deliveries reach public addresses only (loopback too in development and test):
checked on what the host name resolves to when the connection is made, and the connection
goes to the address checked. Real connections to a real local receiver."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from registry.config import Environment
from registry.core.errors import Invalid
from registry.monitoring.egress import IPAddress, address_allowed, webhook_transport
from registry.monitoring.service import check_webhook_host, check_webhook_url
from tests.monitoring_support import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def resolving_to(*addresses: str):
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]

    return resolver


async def unresolvable(host: str, port: int) -> list[IPAddress]:
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: Name or service not known")


@pytest.mark.parametrize(
    "address, strict, relaxed",
    [
        ("93.184.215.14", True, True),
        ("2606:4700::1111", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.0.0.1", False, False),
        ("192.168.1.20", False, False),
        ("172.16.0.1", False, False),
        ("169.254.169.254", False, False),  # cloud metadata
        ("100.64.0.1", False, False),  # carrier-grade NAT
        ("fc00::1", False, False),
        ("fe80::1", False, False),
        ("0.0.0.0", False, False),
        ("::ffff:10.0.0.1", False, False),  # IPv4-mapped: judged as the IPv4 address
        ("::ffff:127.0.0.1", False, True),
        ("::ffff:93.184.215.14", True, True),
    ],
)
def test_which_addresses_are_allowed(address, strict, relaxed):
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, relaxed=False) is strict
    assert address_allowed(ip, relaxed=True) is relaxed


async def _post(transport: httpx.AsyncHTTPTransport, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        return await client.post(url, content=b"{}")


async def test_production_deliveries_do_not_reach_loopback(receiver):
    url = receiver.url.replace("127.0.0.1", "localhost")  # a name, resolved by the system
    with pytest.raises(httpx.ConnectError, match="webhooks may only reach public addresses"):
        await _post(webhook_transport(relaxed=False), url)
    assert receiver.received == []
    # The same request is delivered where loopback is allowed: the refusal above is the rule.
    assert (await _post(webhook_transport(relaxed=True), url)).status_code == 200
    assert len(receiver.received) == 1


async def test_the_connection_goes_to_the_address_that_was_checked(receiver):
    """A name resolved by the guard itself: what it checked is where the request goes, with
    the name as the Host; no second lookup can point it elsewhere."""
    port = urlsplit(receiver.url).port
    url = f"http://hooks.lender.example:{port}/hooks/registry"
    response = await _post(webhook_transport(relaxed=True, resolver=resolving_to("127.0.0.1")), url)
    assert response.status_code == 200
    assert receiver.received[0].headers["host"] == f"hooks.lender.example:{port}"
    with pytest.raises(httpx.ConnectError, match=r"resolves to 127\.0\.0\.1"):
        await _post(webhook_transport(relaxed=False, resolver=resolving_to("127.0.0.1")), url)
    assert len(receiver.received) == 1


async def test_a_name_with_any_internal_address_is_refused(receiver):
    port = urlsplit(receiver.url).port
    resolver = resolving_to("93.184.215.14", "10.1.2.3")
    with pytest.raises(httpx.ConnectError, match=r"resolves to 10\.1\.2\.3"):
        await _post(webhook_transport(relaxed=False, resolver=resolver), f"http://mixed.example:{port}/")
    with pytest.raises(httpx.ConnectError, match="could not be resolved"):
        await _post(webhook_transport(relaxed=False, resolver=unresolvable), f"http://no-such-host.invalid:{port}/")
    assert receiver.received == []


@pytest.mark.parametrize("inside", ["127.0.0.1", "::1", "10.20.30.40", "169.254.169.254"])
async def test_registration_refuses_a_name_that_resolves_inside(inside):
    """A name that is not a literal and not "localhost" passes the URL check, and is refused
    for what it resolves to (the resolver is given, so every machine takes this path)."""
    url = "https://hooks.lender.example/h"
    check_webhook_url(url, Environment.production)
    with pytest.raises(Invalid) as refused:
        await check_webhook_host(url, Environment.production, resolver=resolving_to("93.184.215.14", inside))
    assert refused.value.errors[0].message == (
        f"hooks.lender.example resolves to {inside}: loopback, private and link-local addresses are not allowed"
    )


async def test_registration_accepts_a_public_or_unresolvable_name_and_development_does_not_look():
    url = "https://hooks.lender.example/h"
    await check_webhook_host(url, Environment.production, resolver=resolving_to("93.184.215.14", "2606:4700::1111"))
    # Not resolvable yet: accepted, deliveries check again when they connect.
    await check_webhook_host(url, Environment.production, resolver=unresolvable)
    looked: list[str] = []

    async def watching(host: str, port: int) -> list[IPAddress]:
        looked.append(host)
        return [ipaddress.ip_address("10.0.0.1")]

    await check_webhook_host(url, Environment.development, resolver=watching)
    await check_webhook_host(url, Environment.test, resolver=watching)
    assert looked == []
