"""The orchestrator's web app: sessions, tasks, live streams, its consumers and the reaper."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription
from skiff_messaging.streams import ensure_live_stream

from skiff_orchestrator.live.routes import SessionEventsController, TaskStreamController
from skiff_orchestrator.live.websocket import session_socket
from skiff_orchestrator.reaper import Reaper
from skiff_orchestrator.runtime import Runtime
from skiff_orchestrator.sessions.handlers import SANDBOX_SESSION_HANDLERS, billing_handlers
from skiff_orchestrator.sessions.routes import SessionsController
from skiff_orchestrator.settings import OrchestratorSettings
from skiff_orchestrator.tasks.handlers import task_handlers
from skiff_orchestrator.tasks.outputs import TaskOutputs
from skiff_orchestrator.tasks.routes import SessionTasksController, TasksController

SANDBOX_CONSUMER = "orchestrator--sandbox"
BILLING_CONSUMER = "orchestrator--billing"


def create(settings: OrchestratorSettings) -> Litestar:
    """Orchestrator as one process: routes, consumers of SANDBOX and BILLING, relay, reaper."""
    bus = ServiceBus(
        name="orchestrator",
        nats_url=settings.nats_url,
        stream="ORCHESTRATOR",
        database_url=settings.database_url,
        schema=settings.database_schema,
        provisions=[ensure_live_stream],
    )
    runtime = Runtime(bus=bus, settings=settings)
    outputs = TaskOutputs(lambda: bus.nats)
    tasks = task_handlers(outputs, output_limit=settings.task_output_limit_bytes)
    bus.subscriptions = [
        Subscription(
            stream="SANDBOX",
            durable=SANDBOX_CONSUMER,
            handlers={**SANDBOX_SESSION_HANDLERS, **tasks},
        ),
        Subscription(
            stream="BILLING", durable=BILLING_CONSUMER, handlers=billing_handlers(runtime.live)
        ),
    ]

    @contextlib.asynccontextmanager
    async def orchestrating(app: Litestar) -> AsyncIterator[None]:
        """Routes reach the database, and the reaper runs (first pass now)."""
        runtime.session_factory = app.state.db_session_factory
        reaper = Reaper(
            nc=runtime.nats,
            session_factory=runtime.sessions,
            live=runtime.live,
            settings=settings,
        )
        task = asyncio.create_task(reaper.run(), name="orchestrator-reaper")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            runtime.session_factory = None

    return create_app(
        settings,
        route_handlers=[
            SessionsController,
            SessionEventsController,
            SessionTasksController,
            TasksController,
            TaskStreamController,
            session_socket,
        ],
        lifespan=[bus.lifespan, orchestrating],
        readiness_checks={"nats": bus.check_ready},
        dependencies=runtime.dependencies(),
    )
