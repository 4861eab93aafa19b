"""The sandbox runner's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class SandboxRunnerSettings(ServiceSettings, kw_only=True):
    service_name: str = "sandbox_runner"
    port: int = 8084
    database_schema: str | None = "sandbox"
