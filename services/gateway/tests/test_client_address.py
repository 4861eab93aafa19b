"""The client's address: the socket peer unless a trusted proxy says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_helpers import forwarded_headers, serving
from limits_helpers import statuses
from skiff_gateway.app import create
from skiff_gateway.client_address import ClientAddress, parse_networks
from skiff_gateway.settings import GatewaySettings


def scope(peer: str, forwarded_for: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return {"type": "http", "client": (peer, 50000), "headers": headers}


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded_for", "client"),
    [
        ("", "203.0.113.9", "1.1.1.1", "203.0.113.9"),  # nobody trusted: the peer
        ("10.0.0.0/8", "203.0.113.9", "1.1.1.1", "203.0.113.9"),  # untrusted peer
        ("10.0.0.0/8", "10.0.0.2", "1.1.1.1", "1.1.1.1"),
        ("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # left part is the client's
        ("10.0.0.0/8", "10.0.0.2", "1.1.1.1, 10.0.0.7", "1.1.1.1"),  # two proxies of ours
        ("10.0.0.0/8", "10.0.0.2", "10.0.0.8, 10.0.0.7", "10.0.0.8"),  # all ours: left-most
        ("10.0.0.0/8", "10.0.0.2", "junk, 10.0.0.7", "10.0.0.7"),  # garbage is not believed
        ("10.0.0.0/8", "10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.0/8, ::1", "::1", "2001:db8::5", "2001:db8::5"),
        ("127.0.0.1", "testclient", "1.1.1.1", "testclient"),  # not an address at all
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    trusted: str, peer: str, forwarded_for: str | None, client: str
) -> None:
    address = ClientAddress(parse_networks(trusted))

    assert address(scope(peer, forwarded_for)) == client  # type: ignore[arg-type]


def test_trusted_proxies_are_cidrs_or_a_json_list() -> None:
    assert [str(n) for n in parse_networks('["10.0.0.0/8", "192.168.1.7"]')] == [
        "10.0.0.0/8",
        "192.168.1.7/32",
    ]
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, not-a-network")


async def anonymous_burst(url: str, spoofed: list[str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url) as client:
        return [
            await client.post("/api/v1/auth/login", json={}, headers={"x-forwarded-for": value})
            for value in spoofed
        ]


async def test_a_spoofed_forwarded_for_never_moves_the_limit(
    gateway_settings: Callable[..., GatewaySettings],
) -> None:
    settings = gateway_settings(ratelimit_anonymous_per_hour=2)
    async with serving(create(settings)) as url:
        answers = await anonymous_burst(url, ["9.9.9.1", "9.9.9.2", "9.9.9.3"])

    assert statuses(answers) == [200, 200, 429]  # all three are 127.0.0.1's
    assert forwarded_headers(answers[0].json())["x-forwarded-for"] == ["127.0.0.1"]


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    gateway_settings: Callable[..., GatewaySettings],
) -> None:
    settings = gateway_settings(ratelimit_anonymous_per_hour=2, trusted_proxies="127.0.0.1/32")
    async with serving(create(settings)) as url:
        answers = await anonymous_burst(
            url, ["203.0.113.7", "6.6.6.6, 203.0.113.7", "203.0.113.7", "203.0.113.8"]
        )

    # The second one's made-up left part is ignored: it is 203.0.113.7 again.
    assert statuses(answers) == [200, 200, 429, 200]
    assert forwarded_headers(answers[1].json())["x-forwarded-for"] == ["203.0.113.7"]
    assert forwarded_headers(answers[3].json())["x-forwarded-for"] == ["203.0.113.8"]
