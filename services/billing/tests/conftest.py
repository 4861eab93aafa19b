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
from skiff_kit.db import create_engine, create_session_factory
from skiff_messaging.streams import ensure_streams
from skiff_testing.databases import create_database, drop_database
from skiff_testing.services import GatewaySigner, migrated_schema
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from skiff_testing.bus import empty_schema

SCHEMA = "billing"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture(scope="session")
async def migrated_database(postgres_admin_dsn: str) -> AsyncIterator[str]:
    """One database per run with the `billing` schema migrated; the URL of billing's own role.

    CREATE DATABASE costs about half a second, so tests share this one and each starts by
    emptying it (`database_url`) instead of getting a fresh one.
    """
    database = await create_database(postgres_admin_dsn)
    url = await migrated_schema(database, schema=SCHEMA, migrations=MIGRATIONS)
    yield url
    await drop_database(database)


@pytest.fixture
async def database_url(migrated_database: str) -> str:
    """The migrated `billing` schema with every table empty."""
    await empty_schema(migrated_database, SCHEMA)
    return migrated_database


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine as billing's role, on its schema (to arrange rows and to look at them)."""
    engine = create_engine(database_url, schema=SCHEMA, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


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
