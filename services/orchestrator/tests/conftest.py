"""Fixtures of the orchestrator's tests: its schema, the app served on real NATS, stand-ins."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NATS
from skiff_messaging.streams import ensure_live_stream, ensure_streams
from skiff_orchestrator.app import create
from skiff_orchestrator.settings import OrchestratorSettings
from skiff_testing.schema_fixtures import schema_fixtures
from skiff_testing.services import GatewaySigner

sys.path.insert(0, str(Path(__file__).parent))

from billing_fake import FakeBilling
from orchestrator_support import Caller, member, serving
from sandbox_fakes import FakeRunner

SCHEMA = "orchestrator"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

StartOrchestrator = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


migrated_database, database_url, engine, sessions = schema_fixtures(SCHEMA, MIGRATIONS)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A connection for the stand-ins and the tests, with every stream they use."""
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    await ensure_streams(js, ["ORCHESTRATOR", "SANDBOX", "BILLING"])
    await ensure_live_stream(js)
    yield connection
    await connection.drain()


@pytest.fixture
def make_settings(
    database_url: str, nats_url: str, gateway_signer: GatewaySigner
) -> Callable[..., OrchestratorSettings]:
    def make(**overrides: Any) -> OrchestratorSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "database_schema": SCHEMA,
            "nats_url": nats_url,
            "internal_public_keys": gateway_signer.public_keys_json,
            "log_format": "console",
            "log_level": "warning",
            "sandbox_images": "skiff-sandbox:latest,python:3.12",
            "reaper_interval_seconds": 0.1,
            "runner_lost_seconds": 0.5,
            "stream_heartbeat_seconds": 0.5,
            "stream_touch_seconds": 0.2,
            "runner_rpc_timeout_seconds": 1.0,
            "billing_rpc_timeout_seconds": 1.0,
        }
        return OrchestratorSettings(**{**values, **overrides})

    return make


@pytest.fixture
def start_orchestrator(
    make_settings: Callable[..., OrchestratorSettings], nc: NATS
) -> StartOrchestrator:
    """`async with start_orchestrator(**settings) as http:` one orchestrator over real HTTP."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with (
            serving(create(make_settings(**overrides))) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        ):
            yield http

    return start


@pytest.fixture
async def http(start_orchestrator: StartOrchestrator) -> AsyncIterator[httpx.AsyncClient]:
    async with start_orchestrator() as client:
        yield client


@pytest.fixture
async def billing(nc: NATS) -> AsyncIterator[FakeBilling]:
    fake = await FakeBilling(nc).start()
    yield fake
    await fake.close()


@pytest.fixture
async def runner(nc: NATS) -> AsyncIterator[FakeRunner]:
    fake = await FakeRunner(nc).start()
    yield fake
    await fake.close()


@pytest.fixture
def alice(http: httpx.AsyncClient, gateway_signer: GatewaySigner, billing: FakeBilling) -> Caller:
    """A member of a fresh organization (billing answers with credits)."""
    return Caller(http, gateway_signer, member())
