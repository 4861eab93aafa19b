"""Fixtures of notification's tests: its migrated schema, the app on real NATS, signed requests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
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
from skiff_testing.schema_fixtures import schema_fixtures
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from notification_support import Inbox, InboxOf

SCHEMA = "notification"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


migrated_database, database_url, engine, sessions = schema_fixtures(SCHEMA, MIGRATIONS)


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """JetStream as identity (publisher) and as a reader of NOTIFICATION."""
    connection = await nats.connect(nats_url)
    jetstream = connection.jetstream()
    await ensure_streams(jetstream, ["IDENTITY", "NOTIFICATION"])
    yield jetstream
    await connection.drain()


@pytest.fixture
def make_settings(
    database_url: str, nats_url: str, gateway_signer: GatewaySigner
) -> Callable[..., NotificationSettings]:
    def make(**overrides: Any) -> NotificationSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "database_schema": SCHEMA,
            "nats_url": nats_url,
            "internal_public_keys": gateway_signer.public_keys_json,
            "log_format": "console",
            "log_level": "warning",
        }
        return NotificationSettings(**{**values, **overrides})

    return make


@pytest.fixture
async def client(
    make_settings: Callable[..., NotificationSettings], js: JetStreamContext
) -> AsyncIterator[AsyncTestClient[Any]]:
    """Notification running: routes, outbox relay and its consumer of IDENTITY."""
    async with AsyncTestClient(create(make_settings())) as test_client:
        yield test_client


@pytest.fixture
def inbox_of(sessions: async_sessionmaker[AsyncSession], gateway_signer: GatewaySigner) -> InboxOf:
    """Makes the inbox of a new user (or of `user`, or in `org`)."""

    def make(org: str | None = None, user: str | None = None) -> Inbox:
        return Inbox(sessions, gateway_signer, org or new_id("org"), user or new_id("usr"))

    return make
