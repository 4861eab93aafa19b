"""One endpoint that hangs on every request does not delay another endpoint's deliveries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nats.js import JetStreamContext
from skiff_testing.http_receiver import Receiver, Reply, receiving
from webhook_support import Log, OrgOf, publish, started


async def test_a_hanging_endpoint_does_not_delay_the_others(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    events = 40
    async with (
        receiving(lambda _: Reply(hang=True)) as hanging,
        start_service(
            webhook_timeout_seconds=30, webhook_endpoint_concurrency=4, webhook_max_in_flight=8
        ) as client,
    ):
        slow, fast = org_of(client), org_of(client)
        await slow.endpoint(hanging.url)
        await fast.endpoint(receiver.url)
        for _ in range(2 * events):  # the hanging one's backlog first, so it is due first
            await publish(bus_js, started(slow.id), slow.id)
        began = time.monotonic()
        for _ in range(events):
            await publish(bus_js, started(fast.id), fast.id)
        await receiver.wait_for(events, within=15)
        took = time.monotonic() - began
        # Only the cap's worth of requests is ever open to the hanging endpoint.
        assert len(hanging.received) == 4
    assert took < 10, f"the healthy endpoint waited {took:.1f} s behind the hanging one"


async def test_an_endpoint_rate_limit_is_enforced_by_the_dispatcher(
    service: Any, org_of: OrgOf, bus_js: JetStreamContext, receiver: Receiver
) -> None:
    org = org_of(service)
    await org.endpoint(receiver.url, rate_limit_per_second=5)
    for _ in range(15):
        await publish(bus_js, started(org.id), org.id)
    received = await receiver.wait_for(15, within=15)
    span = received[-1].at - received[0].at
    # A burst of 5, then 5 per second: 10 more take at least ~2 s.
    assert span >= 1.8, f"15 deliveries in {span:.2f} s at 5/s"
