"""The benchmark's world: PostgreSQL and NATS from the wheels, the notification service as its
own process, and a publisher that commits sandbox events to an outbox relayed to JetStream."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SandboxStarted
from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port
from skiff_kit.db import create_engine, create_session_factory
from skiff_messaging import Outbox, OutboxRelay, connect, ensure_streams
from skiff_testing.databases import create_database
from skiff_testing.services import GatewaySigner, migrated_schema
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = {
    "notification": ROOT / "services" / "notification" / "migrations",
    "sandbox": ROOT / "services" / "sandbox_runner" / "migrations",
}
OUTBOX = Outbox(source="skiff/sandbox", channel="skiff_outbox_sandbox")


@dataclass
class World:
    nats_url: str
    urls: dict[str, str]  # schema → the service role's SQLAlchemy URL


@contextmanager
def servers(root: Path) -> Iterator[tuple[str, str]]:
    """(admin DSN, NATS URL): PostgreSQL durable as in production, JetStream on file storage."""
    postgres = EmbeddedPostgres(
        root / "postgres", port=free_port(), admin_password=secrets.token_hex(8), durable=True
    )
    nats = EmbeddedNats(root / "nats", port=free_port())
    postgres.start()
    try:
        nats.start()
        try:
            yield postgres.admin_dsn, nats.url
        finally:
            nats.stop()
    finally:
        postgres.stop()


async def build(admin_dsn: str, nats_url: str) -> World:
    database = await create_database(admin_dsn)
    urls = {
        schema: await migrated_schema(database, schema=schema, migrations=path)
        for schema, path in MIGRATIONS.items()
    }
    return World(nats_url=nats_url, urls=urls)


@contextmanager
def notification(world: World, signer: GatewaySigner, port: int, **settings: str) -> Iterator[str]:
    """`python -m skiff_notification` as its own process; yields its base URL once ready."""
    env = {
        **os.environ,
        "SKIFF_PORT": str(port),
        "SKIFF_DATABASE_URL": world.urls["notification"],
        "SKIFF_DATABASE_SCHEMA": "notification",
        "SKIFF_NATS_URL": world.nats_url,
        "SKIFF_INTERNAL_PUBLIC_KEYS": signer.public_keys_json,
        "SKIFF_LOG_LEVEL": "warning",
        "SKIFF_WEBHOOKS_ALLOWED_CIDRS": "127.0.0.1/32",
        "SKIFF_WEBHOOKS_ALLOW_HTTP": "true",
        **{f"SKIFF_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "skiff_notification"], env=env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the notification service did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


class Publisher:
    """Sandbox's side: commits `sandbox.session.started` to its outbox; a relay publishes it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.engine: AsyncEngine = create_engine(world.urls["sandbox"], schema="sandbox")
        self.sessions: async_sessionmaker[AsyncSession] = create_session_factory(self.engine)

    @asynccontextmanager
    async def relaying(self) -> AsyncIterator[None]:
        nc = await connect(self.world.nats_url, name="sandbox-relay")
        await ensure_streams(nc.jetstream())
        dsn = self.world.urls["sandbox"].replace("+asyncpg", "", 1)
        relay = OutboxRelay(dsn=dsn, schema="sandbox", channel=OUTBOX.channel, js=nc.jetstream())
        task = asyncio.create_task(relay.run())
        while not relay.leading:  # noqa: ASYNC110 - waiting for the relay to LISTEN
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await nc.close()
            await self.engine.dispose()

    async def commit(self, org: str) -> tuple[str, float]:
        """One event of `org`, committed: (its session id, monotonic time when COMMIT returned)."""
        event = SandboxStarted(
            session_id=new_id("ses"),
            organization_id=org,
            runner_id="bench",
            backend="local",
            warm=True,
            started_at=datetime.now(UTC),
        )
        async with self.sessions() as session, session.begin():
            await OUTBOX.record(session, event, subject=event.session_id, organization_id=org)
        return event.session_id, time.monotonic()
