"""What routes need at run time besides the database: NATS, live announcements, runners."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.di import NamedDependency, Provide
from nats.aio.client import Client as NATS
from skiff_kit.errors import ServiceUnavailable
from skiff_messaging.service_bus import ServiceBus
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_orchestrator.live.announce import LiveAnnouncer
from skiff_orchestrator.models import Session, Task
from skiff_orchestrator.runner_client import RunnerClient
from skiff_orchestrator.settings import OrchestratorSettings


@dataclass
class Runtime:
    """The bus of this process, and helpers bound to its connection."""

    bus: ServiceBus
    settings: OrchestratorSettings

    def __post_init__(self) -> None:
        self.live = LiveAnnouncer(lambda: self.bus.nats)
        self.session_factory: async_sessionmaker[AsyncSession] | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self.session_factory is None:
            raise ServiceUnavailable("The database is not ready.", code="database_unavailable")
        return self.session_factory

    async def load_session(self, session_id: str) -> Session | None:
        """A fresh read of a session row (streams outlive their request's transaction)."""
        async with self.sessions() as db_session:
            return await db_session.scalar(select(Session).where(Session.id == session_id))

    async def load_task(self, task_id: str) -> Task | None:
        async with self.sessions() as db_session:
            return await db_session.scalar(select(Task).where(Task.id == task_id))

    async def runner_of(self, session_id: str) -> str | None:
        session = await self.load_session(session_id)
        return session.runner_id if session is not None else None

    @property
    def nats(self) -> NATS:
        if self.bus.nats is None or not self.bus.nats.is_connected:
            raise ServiceUnavailable("NATS is not connected.", code="nats_unavailable")
        return self.bus.nats

    def runners(self) -> RunnerClient:
        return RunnerClient(self.nats, timeout=self.settings.runner_rpc_timeout_seconds)

    def dependencies(self) -> dict[str, Provide]:
        return {"runtime": Provide(lambda: self, sync_to_thread=False, use_cache=True)}


CurrentRuntime = NamedDependency[Runtime]
"""Annotation of a handler parameter named `runtime`."""
