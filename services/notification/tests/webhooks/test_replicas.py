"""Two replicas on one database: an endpoint's rate limit and concurrency cap hold for both
together, as its receiver measures them."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.js import JetStreamContext
from skiff_testing.http_receiver import Receiver, Reply
from webhook_support import OrgOf, publish, started

REPLICAS = 2


@contextlib.asynccontextmanager
async def replicas(
    start_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> AsyncIterator[tuple[list[Any], Counter[int]]]:
    """Two notification apps (consumers and dispatchers) and how many sends each started."""
    sends: Counter[int] = Counter()
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(start_service(**settings)) for _ in "ab"]
        for index, client in enumerate(clients):
            dispatcher = client.app.state.webhook_dispatcher
            counted = _counting(dispatcher.clients.of, sends, index)
            monkeypatch.setattr(dispatcher.clients, "of", counted)
        yield clients, sends


def _counting(of: Callable[[str], Any], sends: Counter[int], index: int) -> Callable[[str], Any]:
    def counted(endpoint_id: str) -> Any:
        sends[index] += 1
        return of(endpoint_id)

    return counted


async def test_a_rate_limit_holds_across_replicas(
    start_service: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    org_of: OrgOf,
    bus_js: JetStreamContext,
    receiver: Receiver,
) -> None:
    rate, events = 5, 30
    async with replicas(start_service, monkeypatch) as (clients, sends):
        org = org_of(clients[0])
        await org.endpoint(receiver.url, rate_limit_per_second=rate)
        for _ in range(events):
            await publish(bus_js, started(org.id), org.id)
        arrivals = [r.at for r in await receiver.wait_for(events, within=20)]
    # GCRA: from any request on, at most a burst (one second's worth) plus `rate` per second
    # (one more for the timing between the claim and the arrival). Each replica on its own
    # would let through twice that: 30 in about 2 s.
    for first in range(events):
        for last in range(first, events):
            count, span = last - first + 1, arrivals[last] - arrivals[first]
            assert count <= rate + rate * span + 1, f"{count} requests in {span:.2f} s"
    assert arrivals[-1] - arrivals[0] >= (events - rate) / rate - 0.5
    assert all(sends[i] > 0 for i in range(REPLICAS)), f"sends per replica: {dict(sends)}"


async def test_a_concurrency_cap_holds_across_replicas(
    start_service: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    org_of: OrgOf,
    bus_js: JetStreamContext,
    receiver: Receiver,
) -> None:
    cap, events, delay = 2, 16, 0.3
    receiver.answer = lambda _: Reply(delay=delay)
    async with replicas(start_service, monkeypatch, webhook_endpoint_concurrency=cap) as (
        clients,
        sends,
    ):
        org = org_of(clients[0])
        await org.endpoint(receiver.url)
        for _ in range(events):
            await publish(bus_js, started(org.id), org.id)
        arrivals = [r.at for r in await receiver.wait_for(events, within=30)]
    # Each request is open at the receiver for `delay` (a slot's next request can only come
    # after the answer): the most open at once.
    edges = sorted([(at, 1) for at in arrivals] + [(at + delay, -1) for at in arrivals])
    open_now = peak = 0
    for _, change in edges:
        open_now += change
        peak = max(peak, open_now)
    assert peak == cap, f"{peak} requests open at once at the receiver (cap {cap})"
    assert all(sends[i] > 0 for i in range(REPLICAS)), f"sends per replica: {dict(sends)}"
