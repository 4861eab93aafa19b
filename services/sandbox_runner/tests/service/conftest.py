"""Fixtures of the runner's service tests: its schema, real NATS, and the runner itself.

The runner runs in-process with the `local` backend (fast, no engine); tests drive it as the
orchestrator does: events on ORCHESTRATOR, requests on `rpc.sandbox.<runner>.*`, and they
read what it emits on SANDBOX, LIVE and the KV buckets.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from skiff_contracts import new_id
from skiff_messaging.streams import ensure_live_stream, ensure_streams
from skiff_sandbox_runner.app import create
from skiff_sandbox_runner.settings import SandboxRunnerSettings
from skiff_testing.schema_fixtures import schema_fixtures
from skiff_testing.services import GatewaySigner

sys.path.insert(0, str(Path(__file__).parent))

SCHEMA = "sandbox"
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


migrated_database, database_url, engine, sessions = schema_fixtures(SCHEMA, MIGRATIONS)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """A connection as the orchestrator: publishes its events, sends rpc, reads streams."""
    connection = await nats.connect(nats_url)
    await ensure_streams(connection.jetstream(), ["ORCHESTRATOR", "SANDBOX"])
    await ensure_live_stream(connection.jetstream())
    yield connection
    await connection.drain()


@pytest.fixture
def js(nc: NATS) -> JetStreamContext:
    return nc.jetstream()


@pytest.fixture
def runner_id() -> str:
    return f"test-{new_id('run')[-8:].lower()}"


@pytest.fixture
def make_settings(
    database_url: str,
    nats_url: str,
    gateway_signer: GatewaySigner,
    tmp_path: Path,
    runner_id: str,
) -> Callable[..., SandboxRunnerSettings]:
    def make(**overrides: Any) -> SandboxRunnerSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "database_schema": SCHEMA,
            "nats_url": nats_url,
            "internal_public_keys": gateway_signer.public_keys_json,
            "log_format": "console",
            "log_level": "warning",
            "runner_id": runner_id,
            "backend": "local",
            "workspace_root": str(tmp_path / "sandboxes"),
            "lifecycle_tick_seconds": 0.1,
            "liveness_check_seconds": 0.3,
            "heartbeat_interval_seconds": 0.5,
            "advertise_url": "http://runner.test:9999",
        }
        return SandboxRunnerSettings(**{**values, **overrides})

    return make


@pytest.fixture
async def runner(
    make_settings: Callable[..., SandboxRunnerSettings], js: JetStreamContext
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The runner, started: consumers, responders, lifecycle loop and file routes."""
    async with AsyncTestClient(create(make_settings())) as client:
        yield client
