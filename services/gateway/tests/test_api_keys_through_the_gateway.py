"""API keys through whole gateways: two replicas on one NATS, identity played by its events."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import msgspec
import nats
from directory_helpers import Identity, evolve, key_state, raw_key
from gateway_helpers import Gateway, StartGateway, assert_error, forwarded_headers
from nats.js.errors import FetchTimeoutError
from skiff_contracts import decode_envelope
from skiff_contracts.events.gateway import UsageReported
from skiff_contracts.events.identity import ApiKeyRevoked
from skiff_kit.internal_token import InternalTokenVerifier

PATH = "/api/v1/sessions"


async def status_of(gateway: Gateway, raw: str) -> int:
    return (await gateway.get(PATH, headers={"x-api-key": raw})).status_code


async def test_a_key_is_forwarded_as_its_principal(
    start_gateway: StartGateway, nats_url: str, internal_verifier: InternalTokenVerifier
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw, scopes=["sessions:read"]))
    async with start_gateway() as gateway:
        deadline = time.monotonic() + 5
        while await status_of(gateway, raw) != 200:
            assert time.monotonic() < deadline, "the key never reached the gateway"
            await asyncio.sleep(0.02)

        response = await gateway.get(PATH, headers={"authorization": f"Bearer {raw}"})

        tokens = forwarded_headers(response.json())["x-skiff-internal-token"]
        principal = internal_verifier.verify(tokens[0])
        assert (principal.via, principal.api_key_id, principal.organization_id) == (
            "api_key",
            "key_1",
            "org_acme",
        )
        assert principal.scopes == ("sessions:read",)
        assert_error(
            await gateway.get(PATH, headers={"x-api-key": raw_key()}), 401, "invalid_api_key"
        )


async def test_a_revoked_key_is_refused_by_both_replicas_within_a_second(
    start_gateway: StartGateway, nats_url: str
) -> None:
    identity = Identity(nats_url)
    raw = raw_key()
    created = key_state(raw)
    await identity.publish(created)
    async with AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(start_gateway(replica_id=f"gw-{n}")) for n in range(2)
        ]
        for gateway in replicas:
            deadline = time.monotonic() + 5
            while await status_of(gateway, raw) != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)

        await identity.publish(evolve(created, ApiKeyRevoked, revoked=True))
        published = time.monotonic()

        for gateway in replicas:
            while await status_of(gateway, raw) != 401:
                assert time.monotonic() - published < 1.0, "still accepted 1 s after the revoke"
                await asyncio.sleep(0.01)
            assert_error(
                await gateway.get(PATH, headers={"x-api-key": raw}), 401, "api_key_revoked"
            )


async def test_a_fresh_replica_authenticates_from_the_bucket_with_identity_gone(
    start_gateway: StartGateway, nats_url: str
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw))
    async with start_gateway() as first:
        deadline = time.monotonic() + 5
        while await status_of(first, raw) != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)

    connection = await nats.connect(nats_url)
    try:  # identity's events are gone for good: only the bucket is left
        await connection.jetstream().purge_stream("IDENTITY")
    finally:
        await connection.close()
    async with start_gateway() as fresh:
        assert await status_of(fresh, raw) == 200


async def test_requests_made_with_a_key_are_reported_by_day_and_status_class(
    start_gateway: StartGateway, nats_url: str
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw))
    async with start_gateway(replica_id="gw-usage") as gateway:
        deadline = time.monotonic() + 5
        while await status_of(gateway, raw) != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await gateway.get(f"{PATH}?status=404", headers={"x-api-key": raw})
        await gateway.get(f"{PATH}?status=201", headers={"x-api-key": raw})

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
        envelope = decode_envelope(message.data)
        assert message.headers is not None
        assert message.headers["Nats-Msg-Id"] == envelope.id
        report = msgspec.json.decode(envelope.data, type=UsageReported)
        assert report.replica == "gw-usage"
        for row in report.usage:
            assert (row.key_id, row.organization_id) == ("key_1", "org_acme")
            totals[row.status_class] = totals.get(row.status_class, 0) + row.requests
    assert totals["4xx"] == 1
    assert totals["2xx"] >= 2
