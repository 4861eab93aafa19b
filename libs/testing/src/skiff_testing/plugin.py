"""The pytest plugin: one real PostgreSQL and one real NATS per test run, a clean slate per test.

Fixtures:
- `postgres_admin_dsn` (session): superuser URL of the run's PostgreSQL.
- `nats_url` (function): URL of the run's NATS; every stream and KV bucket is deleted first.
- `fresh_database` (function): a new, empty database for this test; returns its `TestDatabase`.
- `gateway_signer` (session): signs internal tokens as the gateway; see `skiff_testing.services`.
- `docker_engine`, `sandbox_image` (session) and the `docker` marker: see `skiff_testing.docker`.

By default both servers come from the wheels (skiff_embedded). `SKIFF_TEST_INFRA=testcontainers`
starts them as containers (skiff_testing.containers); `external`, or `SKIFF_TEST_POSTGRES_DSN`
and/or `SKIFF_TEST_NATS_URL` alone, uses servers started elsewhere (see skiff_testing.infra).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from skiff_testing.databases import TestDatabase, create_database, drop_database
from skiff_testing.docker import docker_engine, sandbox_image
from skiff_testing.infra import NATS_URL, POSTGRES_DSN, InfraSource, external_address, infra_source
from skiff_testing.nats_reset import reset_jetstream
from skiff_testing.servers import started_nats, started_postgres
from skiff_testing.services import GatewaySigner

__all__ = ["docker_engine", "sandbox_image"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the `docker` marker (tests that need a real engine and the sandbox image)."""
    config.addinivalue_line(
        "markers",
        "docker: needs a Docker engine and the sandbox image (skipped without them, "
        "failed with SKIFF_REQUIRE_DOCKER=1)",
    )


@pytest.fixture(scope="session")
def postgres_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Superuser DSN of the test run's PostgreSQL."""
    source = infra_source(POSTGRES_DSN)
    if source is InfraSource.EXTERNAL:
        yield external_address(POSTGRES_DSN)
        return
    if source is InfraSource.TESTCONTAINERS:
        # Imported here: testcontainers takes a second to import, and most runs never need it.
        from skiff_testing.containers import started_postgres_container

        with started_postgres_container() as dsn:
            yield dsn
        return
    with started_postgres(Path(tmp_path_factory.mktemp("postgres"))) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def nats_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the test run's NATS server (JetStream enabled)."""
    source = infra_source(NATS_URL)
    if source is InfraSource.EXTERNAL:
        yield external_address(NATS_URL)
        return
    if source is InfraSource.TESTCONTAINERS:
        from skiff_testing.containers import started_nats_container

        with started_nats_container() as url:
            yield url
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
