"""The orchestrator's web app: health, its schema and its place on the bus."""

from __future__ import annotations

from litestar import Litestar
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus

from skiff_orchestrator.settings import OrchestratorSettings


def create(settings: OrchestratorSettings) -> Litestar:
    """Orchestrator as one process: health and readiness, and the relay of its (future) events."""
    bus = ServiceBus(
        name="orchestrator",
        nats_url=settings.nats_url,
        stream="ORCHESTRATOR",
        database_url=settings.database_url,
        schema=settings.database_schema,
    )
    return create_app(
        settings,
        lifespan=[bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
    )
