"""Fixtures: a service schema with the messaging tables (made by its migration), NATS, streams."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from skiff_testing.databases import TestDatabase

sys.path.insert(0, str(Path(__file__).parent))

from messaging_helpers import ServiceDb, open_service_db
from skiff_messaging import connect, ensure_streams


@pytest.fixture
async def service_db(fresh_database: TestDatabase) -> AsyncIterator[ServiceDb]:
    """Schema `svc`, owned by its own login role, migrated like a service's first migration."""
    db = await open_service_db(fresh_database)
    yield db
    await db.engine.dispose()
    admin = await asyncpg.connect(fresh_database.dsn())
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", db.role
        )
        await admin.execute(f'DROP OWNED BY "{db.role}" CASCADE; DROP ROLE "{db.role}"')
    finally:
        await admin.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    connection = await connect(nats_url, name="messaging-tests")
    yield connection
    await connection.close()


@pytest.fixture
async def js(nc: NATS) -> JetStreamContext:
    jetstream = nc.jetstream()
    await ensure_streams(jetstream)
    return jetstream
