"""Webhook test fixtures: the tripwire (loopback only), receivers, the service, an org owner."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_contracts import new_id
from skiff_messaging.streams import ensure_streams
from skiff_notification.app import create
from skiff_notification.settings import NotificationSettings
from skiff_testing.http_receiver import Receiver
from skiff_testing.loopback_only import loopback_only
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from webhook_support import Log, Org

# The receivers of these tests run on loopback: the operator allows it, as a test setting.
ON_LOOPBACK = {"webhooks_allowed_cidrs": "127.0.0.1/32", "webhooks_allow_http": True}


@pytest.fixture(autouse=True)
def tripwire() -> Iterator[list[str]]:
    """Every webhook test fails if anything connects to a non-loopback address.

    A test that expects a (stopped) attempt reads the list and empties it.
    """
    with loopback_only() as refused:
        yield refused
    assert refused == [], f"connections to non-loopback addresses were attempted: {refused}"


@pytest.fixture
async def bus_js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """JetStream as the publishing services (the streams notification reads)."""
    connection = await nats.connect(nats_url)
    jetstream = connection.jetstream()
    await ensure_streams(jetstream, ["IDENTITY", "BILLING", "ORCHESTRATOR", "SANDBOX"])
    yield jetstream
    await connection.drain()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = Receiver()
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def webhook_settings(
    make_settings: Callable[..., NotificationSettings],
) -> Callable[..., NotificationSettings]:
    def make(**overrides: Any) -> NotificationSettings:
        return make_settings(**{**ON_LOOPBACK, "webhook_lease_seconds": 30.0, **overrides})

    return make


@pytest.fixture
def start_service(
    webhook_settings: Callable[..., NotificationSettings], bus_js: JetStreamContext
) -> Callable[..., Any]:
    """`async with start_service(**settings, clock=..., resolver=...) as client:`."""

    def start(*, clock: Any = None, resolver: Any = None, **overrides: Any) -> AsyncTestClient[Any]:
        extra = {"clock": clock} if clock is not None else {}
        if resolver is not None:
            extra["resolver"] = resolver
        return AsyncTestClient(create(webhook_settings(**overrides), **extra))

    return start


@pytest.fixture
async def service(start_service: Callable[..., Any]) -> AsyncIterator[AsyncTestClient[Any]]:
    async with start_service() as client:
        yield client


@pytest.fixture
def org_of(gateway_signer: GatewaySigner) -> Callable[..., Org]:
    def make(client: AsyncTestClient[Any], *, role: str = "owner", org: str | None = None) -> Org:
        return Org(client, gateway_signer, org or new_id("org"), new_id("usr"), role)

    return make


@pytest.fixture
def log(sessions: async_sessionmaker[AsyncSession]) -> Log:
    return Log(sessions)
