"""The pytest plugin: one real PostgreSQL and one real NATS per test run, a clean slate per test.

Fixtures:
- `postgres_admin_dsn` (session): superuser URL of the run's PostgreSQL.
- `nats_url` (function): URL of the run's NATS; every stream and KV bucket is deleted first.
- `fresh_database` (function): a new, empty database for this test; returns its `TestDatabase`.
- `gateway_signer` (session): signs internal tokens as the gateway; see `skiff_testing.services`.

By default both servers come from the wheels (skiff_embedded). Set `SKIFF_TEST_POSTGRES_DSN`
and/or `SKIFF_TEST_NATS_URL` to use servers started elsewhere (testcontainers, CI services).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from skiff_testing.databases import TestDatabase, create_database, drop_database
from skiff_testing.nats_reset import reset_jetstream
from skiff_testing.servers import started_nats, started_postgres
from skiff_testing.services import GatewaySigner


@pytest.fixture(scope="session")
def postgres_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Superuser DSN of the test run's PostgreSQL."""
    external = os.environ.get("SKIFF_TEST_POSTGRES_DSN")
    if external:
        yield external
        return
    with started_postgres(Path(tmp_path_factory.mktemp("postgres"))) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def nats_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the test run's NATS server (JetStream enabled)."""
    external = os.environ.get("SKIFF_TEST_NATS_URL")
    if external:
        yield external
        return
    with started_nats(Path(tmp_path_factory.mktemp("nats"))) as url:
        yield url


@pytest.fixture
async def nats_url(nats_server_url: str) -> str:
    """The NATS URL, with every stream and KV bucket of earlier tests deleted."""
    await reset_jetstream(nats_server_url)
    return nats_server_url


@pytest.fixture
async def fresh_database(postgres_admin_dsn: str) -> AsyncIterator[TestDatabase]:
    """A new empty database, dropped after the test."""
    database = await create_database(postgres_admin_dsn)
    yield database
    await drop_database(database)


@pytest.fixture(scope="session")
def gateway_signer() -> GatewaySigner:
    """Signs internal tokens as the gateway would; pass `.public_keys_json` to the service."""
    return GatewaySigner()
