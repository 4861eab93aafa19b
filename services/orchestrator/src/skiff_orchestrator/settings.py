"""Orchestrator's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class OrchestratorSettings(ServiceSettings, kw_only=True):
    service_name: str = "orchestrator"
    port: int = 8083
    database_schema: str | None = "orchestrator"
