"""The address guard: every non-public form refused, on the address actually connected to.

The resolver is a stub (no real lookup), and the tripwire fails the test if anything connects
to an address other than loopback. Receivers listen on 127.0.0.1, which this service is NOT
allowed to reach here (no operator allow-list): if the guard let a loopback address through,
the receiver would see the request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from nats.js import JetStreamContext
from skiff_notification.webhooks.network import system_resolver
from skiff_notification.webhooks.ssrf import AddressPolicy, ip_literal
from skiff_testing.http_receiver import Receiver
from webhook_support import Log, OrgOf, publish, started, until

# Each target of the issue, as a resolver might answer for a harmless-looking name.
FORBIDDEN = {
    "loopback": "127.0.0.1",
    "loopback, elsewhere in 127/8": "127.45.6.7",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.20.0.5",
    "private 192.168/16": "192.168.1.10",
    "link-local": "169.254.10.20",
    "cloud metadata": "169.254.169.254",
    "CGNAT": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "multicast": "224.0.0.251",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "IPv6 loopback": "::1",
    "IPv6 unspecified": "::",
    "IPv6 ULA": "fd12:3456:789a::1",
    "IPv6 link-local": "fe80::1",
    "IPv6 multicast": "ff02::1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped metadata": "::ffff:169.254.169.254",
    "NAT64 of loopback": "64:ff9b::7f00:1",
    "NAT64 of private": "64:ff9b::a01:203",
    "6to4 of loopback": "2002:7f00:1::1",
    "6to4 of private": "2002:c0a8:101::1",
}
# How people write 127.0.0.1 to slip past a naive check.
SPELLINGS = [
    "2130706433",
    "0x7f.1",
    "127.1",
    "0177.0.0.1",
    "0x7f000001",
    "127.0.1",
    "[::ffff:7f00:1]",
]


@pytest.mark.parametrize("address", FORBIDDEN.values(), ids=list(FORBIDDEN))
def test_the_policy_refuses_each_forbidden_address(address: str) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_loopback_is_read_as_loopback(spelling: str) -> None:
    address = ip_literal(spelling)
    assert address is not None, spelling
    assert AddressPolicy().refusal(address) is not None


def test_the_operator_allow_list_opens_a_range_and_only_it() -> None:
    policy = AddressPolicy.from_setting("10.20.0.0/16, fd00::/8")
    assert policy.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:10.20.3.4")) is None
    assert policy.refusal(ipaddress.ip_address("fd00::5")) is None
    assert policy.refusal(ipaddress.ip_address("10.21.0.1")) is not None
    assert (
        AddressPolicy.from_setting('["127.0.0.1/32"]').refusal(ipaddress.ip_address("127.0.0.1"))
        is None
    )


def stub(*answers: list[str]) -> Callable[..., Any]:
    """A resolver answering each lookup with the next list (the last one repeats)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[Any]:
        literal = ip_literal(host)
        if literal is not None:
            return [literal]
        calls.append(host)
        found = answers[min(len(calls), len(answers)) - 1]
        return [ipaddress.ip_address(a) for a in found]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def _sent_once(org: Any, js: JetStreamContext, log: Log, url: str) -> Any:
    endpoint = await org.endpoint(url)
    await publish(js, started(org.id), org.id)
    await until(lambda: _attempted(log, endpoint["id"]), what="one attempt")
    (message,) = await log.messages(endpoint["id"])
    return (await log.attempts(message.id))[0]


async def _attempted(log: Log, endpoint_id: str) -> bool:
    messages = await log.messages(endpoint_id)
    return bool(messages) and bool(await log.attempts(messages[0].id))


async def test_a_name_resolving_to_any_forbidden_address_is_never_connected_to(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    resolver = stub(list(FORBIDDEN.values()))
    async with start_service(webhooks_allowed_cidrs="", resolver=resolver) as client:
        attempt = await _sent_once(
            org_of(client), bus_js, log, f"http://hooks.example.com:{receiver.port}/"
        )
    assert attempt.error == "blocked_address"
    assert attempt.status_code is None
    for address in FORBIDDEN.values():
        assert str(ipaddress.ip_address(address)) in attempt.response_excerpt
    assert receiver.received == []


async def test_rebinding_to_loopback_on_the_next_lookup_is_refused(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
    tripwire: list[str],
) -> None:
    """Public at the first lookup, 127.0.0.1 (where a receiver listens) at the second."""
    resolver = stub(["93.184.216.34"], ["127.0.0.1"])
    async with start_service(webhooks_allowed_cidrs="", resolver=resolver) as client:
        org = org_of(client)
        endpoint = await org.endpoint(f"http://rebind.example.com:{receiver.port}/")
        await publish(bus_js, started(org.id), org.id)
        await until(lambda: _attempted(log, endpoint["id"]), what="first attempt")
        # The first attempt went for the public address; the tripwire stopped it on this host.
        assert tripwire == [f"93.184.216.34:{receiver.port}"]
        tripwire.clear()
        (message,) = await log.messages(endpoint["id"])
        replay = await org.call(
            "POST", f"/api/v1/webhooks/{endpoint['id']}/deliveries/{message.id}/replay"
        )
        assert replay.status_code == 202, replay.text
        await until(lambda: _attempts_are(log, message.id, 2), what="second attempt")
    first, second = await log.attempts(message.id)
    assert first.error == "connect"
    assert second.error == "blocked_address"
    assert "127.0.0.1" in second.response_excerpt
    assert resolver.calls == ["rebind.example.com", "rebind.example.com"]  # type: ignore[attr-defined]
    assert receiver.received == []


async def _attempts_are(log: Log, message_id: str, count: int) -> bool:
    return len(await log.attempts(message_id)) >= count


@pytest.mark.parametrize("host", [*SPELLINGS, "localhost", "169.254.169.254", "[::1]", "10.0.0.1"])
async def test_a_forbidden_literal_is_refused_when_the_endpoint_is_made(
    start_service: Callable[..., Any], org_of: OrgOf, host: str
) -> None:
    async with start_service(webhooks_allowed_cidrs="", resolver=stub([])) as client:
        answer = await org_of(client).call(
            "POST", "/api/v1/webhooks", json={"url": f"http://{host}:8080/", "events": ["*"]}
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "url_not_allowed"


async def test_the_test_ping_goes_through_the_same_guard(
    start_service: Callable[..., Any], org_of: OrgOf, log: Log, receiver: Receiver
) -> None:
    async with start_service(webhooks_allowed_cidrs="", resolver=stub(["127.0.0.1"])) as client:
        org = org_of(client)
        endpoint = await org.endpoint(f"http://looks-fine.example.com:{receiver.port}/")
        sent = await org.call("POST", f"/api/v1/webhooks/{endpoint['id']}/test")
        assert sent.status_code == 202, sent.text
        assert sent.json()["event_type"] == "skiff.ping"
        await until(lambda: _attempted(log, endpoint["id"]), what="the ping's attempt")
    (message,) = await log.messages(endpoint["id"])
    (attempt,) = await log.attempts(message.id)
    assert attempt.error == "blocked_address"
    assert attempt.trigger == "manual"
    assert receiver.received == []


async def test_the_system_resolver_reads_numeric_forms_without_any_lookup() -> None:
    for spelling in SPELLINGS:
        (address,) = await system_resolver(spelling.strip("[]"), 80)
        assert address.is_loopback or getattr(address, "ipv4_mapped", None) is not None
