"""A key's usage counts every answer it got: the service's, and the gateway's own errors."""

from __future__ import annotations

import json

import msgspec
import nats
from directory_helpers import Identity, key_state, raw_key
from gateway_helpers import StartGateway, assert_error
from limits_helpers import clear_of_window_edge
from nats.js.errors import FetchTimeoutError
from skiff_contracts import decode_envelope
from skiff_contracts.events.gateway import UsageReported
from test_ratelimit import known_key


async def reported(nats_url: str, key_id: str) -> dict[str, int]:
    """Requests of `key_id` per status class in every `gateway.usage.reported` so far."""
    totals: dict[str, int] = {}
    connection = await nats.connect(nats_url)
    try:
        subscription = await connection.jetstream().pull_subscribe(
            "gateway.usage.reported", stream="GATEWAY"
        )
        try:
            messages = await subscription.fetch(100, timeout=2)
        except FetchTimeoutError:
            messages = []
    finally:
        await connection.close()
    for message in messages:
        report = msgspec.json.decode(decode_envelope(message.data).data, type=UsageReported)
        for row in report.usage:
            if row.key_id == key_id:
                totals[row.status_class] = totals.get(row.status_class, 0) + row.requests
    return totals


async def test_rate_limited_and_failed_requests_count_as_the_keys_usage(
    start_gateway: StartGateway, nats_url: str, echo_url: str, absent_url: str
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw, key_id="key_used", rate_limit_per_minute=3))
    upstreams = {"orchestrator": echo_url, "billing": absent_url}
    await clear_of_window_edge(60, margin=15)
    async with start_gateway(
        replica_id="gw-usage-own", upstreams=json.dumps(upstreams), ratelimit_key_burst=0
    ) as gateway:
        await known_key(gateway, raw)  # one 200, spending one of the key's 3
        down = await gateway.get("/api/v1/credits/balance", headers={"x-api-key": raw})
        answers = [
            await gateway.get("/api/v1/sessions", headers={"x-api-key": raw}) for _ in range(3)
        ]
        # Not a key's request: a wrong key is nobody's usage.
        await gateway.get("/api/v1/sessions", headers={"x-api-key": raw_key()})

    assert_error(down, 503, "service_unavailable")
    assert [a.status_code for a in answers] == [200, 429, 429]
    assert await reported(nats_url, "key_used") == {"2xx": 2, "4xx": 2, "5xx": 1}


async def test_a_slow_service_answered_by_the_gateway_counts_as_5xx(
    start_gateway: StartGateway, nats_url: str
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw, key_id="key_slow"))
    async with start_gateway(replica_id="gw-usage-slow", upstream_timeout_seconds=0.5) as gateway:
        await known_key(gateway, raw)
        slow = await gateway.get("/api/v1/sessions?delay=2", headers={"x-api-key": raw})

    assert_error(slow, 504, "gateway_timeout")
    totals = await reported(nats_url, "key_slow")
    assert totals["5xx"] == 1
