"""Fixtures of billing's tests: its migrated schema, the app on real NATS, signed requests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_billing.app import create
from skiff_billing.settings import BillingSettings
from skiff_messaging.streams import ensure_streams
from skiff_testing.schema_fixtures import schema_fixtures
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from payments_support import Providers, Shop, serving

SCHEMA = "billing"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


migrated_database, database_url, engine, sessions = schema_fixtures(SCHEMA, MIGRATIONS)


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """JetStream as identity (publisher) and as a reader of billing's stream."""
    connection = await nats.connect(nats_url)
    jetstream = connection.jetstream()
    await ensure_streams(jetstream, ["IDENTITY", "BILLING"])
    yield jetstream
    await connection.drain()


@pytest.fixture
def make_settings(
    database_url: str, nats_url: str, gateway_signer: GatewaySigner
) -> Callable[..., BillingSettings]:
    def make(**overrides: Any) -> BillingSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "database_schema": SCHEMA,
            "nats_url": nats_url,
            "internal_public_keys": gateway_signer.public_keys_json,
            "log_format": "console",
            "log_level": "warning",
        }
        return BillingSettings(**{**values, **overrides})

    return make


@pytest.fixture
async def client(
    make_settings: Callable[..., BillingSettings], js: JetStreamContext
) -> AsyncIterator[AsyncTestClient[Any]]:
    """Billing running: routes, outbox relay and its consumer of IDENTITY."""
    async with AsyncTestClient(create(make_settings())) as test_client:
        yield test_client


@pytest.fixture
async def providers(gateway_signer: GatewaySigner) -> AsyncIterator[Providers]:
    """The Stripe and Polar stand-ins, their webhooks going to `paying` (once it runs)."""
    async with serving(gateway_signer) as running:
        yield running
        running.attach(None)


@pytest.fixture
async def paying(
    make_settings: Callable[..., BillingSettings], js: JetStreamContext, providers: Providers
) -> AsyncIterator[AsyncTestClient[Any]]:
    """Billing configured for the stand-ins, which deliver their webhooks to it."""
    async with AsyncTestClient(create(make_settings(**providers.settings()))) as test_client:
        providers.attach(test_client)
        yield test_client
        await providers.standins.settle()


@pytest.fixture
def shop(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> Shop:
    """Billing paying through the stand-ins, with helpers to buy and look."""
    return Shop(paying, providers, sessions, gateway_signer)
