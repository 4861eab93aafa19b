"""End-to-end fixtures: the six services as real processes on the run's PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import msgspec
import pytest
from skiff_cli.config import StackConfig, free_ports
from skiff_cli.credentials import Secrets
from skiff_cli.process import RestartPolicy
from skiff_cli.supervisor import Stack
from skiff_kit.catalog import SERVICES
from skiff_testing.databases import TestDatabase, create_database, drop_database
from skiff_testing.nats_reset import reset_jetstream
from skiff_testing.services import test_password

SCHEMAS = [spec.schema for spec in SERVICES if spec.schema]
T = TypeVar("T")

# Cheap password hashing: the tests register hundreds of users on two cores.
FAST_PASSWORDS = {"SKIFF_PASSWORD_TIME_COST": "1", "SKIFF_PASSWORD_MEMORY_KIB": "8192"}
# ... all from one address: the gateway's anonymous limit (100/hour) is raised as for a demo.
LOAD_TEST_LIMITS = {"SKIFF_RATELIMIT_ANONYMOUS_PER_HOUR": "100000"}
# Webhook receivers of the tests listen on loopback: the operator setting that allows them.
LOOPBACK_WEBHOOKS = {
    "SKIFF_WEBHOOKS_ALLOWED_CIDRS": "127.0.0.1/32",
    "SKIFF_WEBHOOKS_ALLOW_HTTP": "true",
}


def stack_config(database: TestDatabase, nats_url: str, log_dir: Path) -> StackConfig:
    """A stack on the test server, with the test role passwords and restarts left to the test."""
    secrets = msgspec.structs.replace(
        Secrets.generate(SCHEMAS), roles={schema: test_password(schema) for schema in SCHEMAS}
    )
    return StackConfig(
        admin_dsn=database.admin_dsn,
        database=database.name,
        nats_url=nats_url,
        secrets=secrets,
        log_dir=log_dir,
        sandbox_dir=log_dir.parent / "sandboxes",
        ports=free_ports(),
        restart=RestartPolicy(enabled=False),
        extra_env={**FAST_PASSWORDS, **LOAD_TEST_LIMITS, **LOOPBACK_WEBHOOKS},
        health_timeout=90.0,
        payment_standins=True,  # the Stripe and Polar stand-ins, as `skiff up` runs them
    )


@pytest.fixture(scope="module")
async def e2e_database(postgres_admin_dsn: str) -> AsyncIterator[TestDatabase]:
    """One database for the module's stack."""
    database = await create_database(postgres_admin_dsn)
    yield database
    await drop_database(database)


@pytest.fixture(scope="module")
async def stack(
    e2e_database: TestDatabase, nats_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Every service migrated and running; stopped after the module."""
    await reset_jetstream(nats_server_url)
    running = Stack(stack_config(e2e_database, nats_server_url, tmp_path_factory.mktemp("logs")))
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the stack's gateway."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 20.0) -> T:
    """Poll `check` until it returns something other than None (or fail after `within` s)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within:.0f}s")
        await asyncio.sleep(0.1)
