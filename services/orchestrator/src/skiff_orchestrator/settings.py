"""Orchestrator's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class OrchestratorSettings(ServiceSettings, kw_only=True):
    service_name: str = "orchestrator"
    port: int = 8083
    database_schema: str | None = "orchestrator"

    # Sessions: what a user may ask for (docs/sandboxes.md).
    sandbox_images: str = "skiff-sandbox:latest"  # comma-separated allow-list; first is default
    max_sessions_per_organization: int = 10
    session_cpu_min: float = 0.25
    session_cpu_max: float = 4.0
    session_cpu_default: float = 1.0
    session_memory_min_mb: int = 128
    session_memory_max_mb: int = 8192
    session_memory_default_mb: int = 512
    session_timeout_min_seconds: int = 10
    session_timeout_max_seconds: int = 24 * 3600
    session_timeout_default_seconds: int = 3600
    session_idle_timeout_default_seconds: int = 300
    session_network_default: str = "none"
    # `POST /sessions?wait=true` answers by then at the latest (below the gateway's 30 s).
    session_wait_max_seconds: float = 25.0
    # Sizes are measured as JSON, the form in which they travel on the bus (NATS accepts 1 MiB
    # per message by default); together a task's command, env and stdin fit in one message.
    session_env_max_entries: int = 64
    session_env_max_bytes: int = 32 * 1024
    session_metadata_max_entries: int = 32
    session_metadata_max_bytes: int = 4 * 1024

    # Tasks.
    task_timeout_default_seconds: int = 600
    task_timeout_max_seconds: int = 24 * 3600
    task_command_max_bytes: int = 64 * 1024  # as JSON
    task_stdin_max_bytes: int = 512 * 1024  # UTF-8 bytes; sent as base64 (4/3 of it)
    task_output_limit_bytes: int = 256 * 1024  # per stream, for ?wait=true answers
    task_wait_margin_seconds: float = 10.0
    # `?wait=true` answers by then at the latest (202 and the task as it stands): below the
    # gateway's upstream read timeout (30 s), so a long task never turns into a 504.
    task_wait_max_seconds: float = 25.0

    # Request/reply deadlines.
    billing_rpc_timeout_seconds: float = 2.0
    runner_rpc_timeout_seconds: float = 5.0

    # Reaper and reconciliation.
    reaper_interval_seconds: float = 5.0
    runner_lost_seconds: float = 15.0
    start_deadline_seconds: float = 120.0
    stale_queued_task_seconds: float = 60.0

    # Live streams (SSE and WebSocket).
    stream_heartbeat_seconds: float = 15.0
    stream_touch_seconds: float = 10.0

    def allowed_images(self) -> list[str]:
        """The operator's image allow-list, in order (the first one is the default)."""
        return [image.strip() for image in self.sandbox_images.split(",") if image.strip()]
