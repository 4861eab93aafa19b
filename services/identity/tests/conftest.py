"""Fixtures: identity on its migrated schema, real NATS, requests signed as the gateway.

The schema is migrated once per run and emptied before each test: a new database per test
costs half a second (CREATE DATABASE), emptying a handful of tables a few milliseconds.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from skiff_identity.app import create
from skiff_identity.settings import IdentitySettings
from skiff_kit.internal_token import generate_keypair
from skiff_testing.databases import TestDatabase, create_database, drop_database
from skiff_testing.services import GatewaySigner, migrated_schema

sys.path.insert(0, str(Path(__file__).parent))

from identity_helpers import Identity, StartIdentity

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture(scope="session")
def access_keypair() -> tuple[str, str]:
    """(private PEM, public PEM) of identity's access tokens, shared by the run."""
    return generate_keypair()


@pytest.fixture(scope="session")
async def migrated_database(postgres_admin_dsn: str) -> AsyncIterator[tuple[TestDatabase, str]]:
    """A database with identity's schema migrated, and the URL of identity's own role."""
    database = await create_database(postgres_admin_dsn)
    url = await migrated_schema(database, schema="identity", migrations=MIGRATIONS)
    yield database, url
    await drop_database(database)


@pytest.fixture
async def database(
    migrated_database: tuple[TestDatabase, str],
) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to identity's database, every table emptied for this test."""
    connection = await asyncpg.connect(migrated_database[0].dsn())
    tables = await connection.fetch(
        "select tablename from pg_tables where schemaname = 'identity'"
        " and tablename <> 'alembic_version'"
    )
    names = ", ".join(f'identity."{row["tablename"]}"' for row in tables)
    await connection.execute(f"truncate {names} restart identity cascade")
    yield connection
    await connection.close()


@pytest.fixture
def identity_settings(
    migrated_database: tuple[TestDatabase, str],
    database: asyncpg.Connection,
    nats_url: str,
    gateway_signer: GatewaySigner,
    access_keypair: tuple[str, str],
) -> IdentitySettings:
    """Settings of identity on the emptied schema and the emptied NATS; cheap password hashing."""
    return IdentitySettings(
        database_url=migrated_database[1],
        database_schema="identity",
        nats_url=nats_url,
        internal_public_keys=gateway_signer.public_keys_json,
        access_token_private_key=access_keypair[0],
        password_time_cost=1,
        password_memory_kib=8192,
        log_format="console",
        log_level="warning",
    )


@pytest.fixture
def start_identity(
    identity_settings: IdentitySettings,
    gateway_signer: GatewaySigner,
    access_keypair: tuple[str, str],
) -> StartIdentity:
    """`async with start_identity(**overrides) as identity:` runs the service (lifespan too)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Identity]:
        settings = msgspec.structs.replace(identity_settings, **overrides)
        async with AsyncTestClient(create(settings)) as http:
            yield Identity(http, gateway_signer, access_keypair[1])

    return start


@pytest.fixture
async def identity(start_identity: StartIdentity) -> AsyncIterator[Identity]:
    """The running identity service."""
    async with start_identity() as running:
        yield running
