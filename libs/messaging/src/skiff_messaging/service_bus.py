"""A service's place on the bus: its NATS connection, outbox relay and consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from skiff_contracts import EventPayload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_messaging.connection import connect, drain_then_close, on_reconnect
from skiff_messaging.consumer import EventConsumer, Handler
from skiff_messaging.relay import OutboxRelay
from skiff_messaging.rpc import serve
from skiff_messaging.streams import ensure_streams

log = structlog.get_logger("skiff_messaging.service_bus")


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of one stream and the handlers of the event types it takes."""

    stream: str
    durable: str
    handlers: Mapping[str, tuple[type[EventPayload], Handler]]


@dataclass(frozen=True)
class Responder:
    """Answers request/reply commands on `subject` (queue group: the service's name)."""

    subject: str
    request_type: type[Any]
    handler: Callable[[Any], Awaitable[msgspec.Struct]]
    concurrency: int = 32


@dataclass
class ServiceBus:
    """Connects a service to NATS, relays its outbox and runs its consumers until stopped.

    `database_url` is the service's SQLAlchemy URL; the relay uses the same role through
    asyncpg. `stream` is the stream the service publishes to (None: it publishes nothing).
    """

    name: str
    nats_url: str
    stream: str | None = None
    database_url: str | None = None
    schema: str | None = None
    subscriptions: Sequence[Subscription] = ()
    responders: Sequence[Responder] = ()
    # Streams or buckets the service needs besides its own streams (LIVE, say): made at start
    # and made again after every reconnection, since a NATS restart loses memory storage.
    provisions: Sequence[Callable[[JetStreamContext], Awaitable[None]]] = ()
    nats: NATS | None = field(default=None, init=False)

    @property
    def outbox_channel(self) -> str:
        return f"skiff_outbox_{self.schema}"

    @contextlib.asynccontextmanager
    async def running(
        self, session_factory: async_sessionmaker[AsyncSession] | None
    ) -> AsyncIterator[NATS]:
        """Connect, make sure the streams exist, and run relay + consumers inside the block."""
        self.nats = await connect(self.nats_url, name=self.name)
        js = self.nats.jetstream()
        await self._provision(js)
        on_reconnect(self.nats, lambda: self._provision(js))
        tasks = []
        if self.stream and self.database_url and self.schema:
            relay = OutboxRelay(
                dsn=_libpq(self.database_url),
                schema=self.schema,
                channel=self.outbox_channel,
                js=js,
            )
            tasks.append(asyncio.create_task(relay.run(), name=f"{self.name}-relay"))
        for subscription in self.subscriptions:
            if session_factory is None:
                raise RuntimeError(f"{self.name}: consumers need a database")
            consumer = EventConsumer(
                js=js,
                session_factory=session_factory,
                stream=subscription.stream,
                durable=subscription.durable,
                handlers=subscription.handlers,
            )
            tasks.append(asyncio.create_task(consumer.run(), name=subscription.durable))
        served = [
            await serve(
                self.nats,
                r.subject,
                r.request_type,
                r.handler,
                queue=self.name,
                concurrency=r.concurrency,
            )
            for r in self.responders
        ]
        try:
            yield self.nats
        finally:
            for responder in served:
                await responder.unsubscribe()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await drain_then_close(self.nats)
            self.nats = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """A Litestar lifespan: the bus runs while the app does (uses the kit's session factory)."""
        async with self.running(app.state.get("db_session_factory")):
            yield

    async def _provision(self, js: JetStreamContext) -> None:
        await ensure_streams(js, self._streams())
        for provision in self.provisions:
            await provision(js)

    async def check_ready(self) -> None:
        """Readiness: raises while NATS is not connected."""
        if self.nats is None or not self.nats.is_connected:
            raise ConnectionError("NATS is not connected")

    def _streams(self) -> list[str]:
        names = {s.stream for s in self.subscriptions}
        if self.stream:
            names.add(self.stream)
        return sorted(names)


def _libpq(database_url: str) -> str:
    """`postgresql+asyncpg://...` → `postgresql://...` for asyncpg itself."""
    scheme, rest = database_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"
