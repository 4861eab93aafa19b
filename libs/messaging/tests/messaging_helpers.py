"""Shared pieces of the messaging tests: a service schema, a test event, waiting."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg
from alembic.migration import MigrationContext
from alembic.operations import Operations
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from skiff_contracts import EventPayload
from skiff_messaging import create_messaging_tables
from skiff_testing.databases import TestDatabase
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SCHEMA = "svc"
CHANNEL = "skiff_outbox_svc"
_roles = itertools.count(1)


class Pinged(EventPayload, frozen=True, kw_only=True):
    """The test event (on the IDENTITY stream)."""

    event_type: ClassVar[str] = "identity.test.pinged"

    n: int
    note: str = ""


class Ponged(EventPayload, frozen=True, kw_only=True):
    """A second test event type."""

    event_type: ClassVar[str] = "identity.test.ponged"

    n: int


@dataclass
class ServiceDb:
    """A service's schema, role and engine in a test database."""

    database: TestDatabase
    role: str
    password: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dsn(self) -> str:
        """The role's libpq URL (what a relay gets)."""
        return self.database.dsn(self.role, self.password)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()


def operations_on(connection: Connection) -> Operations:
    """Alembic's `op`, as a migration would get it, on a plain connection."""
    return Operations(MigrationContext.configure(connection))


def _migrate(connection: Connection) -> None:
    operations = operations_on(connection)
    create_messaging_tables(operations)
    # No unique key on purpose: only the inbox may stop a second application.
    operations.execute("CREATE TABLE applied (event_id text NOT NULL, n int NOT NULL)")


async def open_service_db(database: TestDatabase) -> ServiceDb:
    role, password = f"svc_{os.getpid()}_{next(_roles)}", "secret"
    admin = await asyncpg.connect(database.dsn())
    try:
        await admin.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        await admin.execute(f'CREATE SCHEMA {SCHEMA} AUTHORIZATION "{role}"')
    finally:
        await admin.close()
    engine = create_async_engine(
        database.sqlalchemy_url(role, password),
        connect_args={"server_settings": {"search_path": SCHEMA}},
    )
    async with engine.begin() as connection:
        await connection.run_sync(_migrate)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return ServiceDb(database, role, password, engine, sessions)


@asynccontextmanager
async def running(work: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Run `work()` (a relay's or consumer's run) in the background for a block."""
    task = asyncio.create_task(work())
    try:
        yield
    finally:
        # Python 3.11's wait_for (inside nats-py) can swallow one cancellation: insist.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        await asyncio.gather(task, return_exceptions=True)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 5.0, what: str = "condition"
) -> float:
    """Poll `check` until true; the seconds it took. Fails the test after `within`."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def stream_messages(js: JetStreamContext, stream: str = "IDENTITY") -> list[RawStreamMsg]:
    """Every message stored in a stream, in order."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [
        await js.get_msg(stream, seq)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]


async def stream_count(js: JetStreamContext, stream: str = "IDENTITY") -> int:
    return int((await js.stream_info(stream)).state.messages)
