"""The sandbox runner's web app: health, its schema and its place on the bus."""

from __future__ import annotations

from litestar import Litestar
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus

from skiff_sandbox_runner.settings import SandboxRunnerSettings


def create(settings: SandboxRunnerSettings) -> Litestar:
    """The sandbox runner as one process: health, readiness and its outbox relay."""
    bus = ServiceBus(
        name="sandbox_runner",
        nats_url=settings.nats_url,
        stream="SANDBOX",
        database_url=settings.database_url,
        schema=settings.database_schema,
    )
    return create_app(
        settings,
        lifespan=[bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
    )
