"""Orchestrator's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import Port, ServiceSettings


class OrchestratorSettings(ServiceSettings, kw_only=True):
    """The orchestrator's own settings, on top of the ones every service reads."""

    service_name: str = "orchestrator"
    """The service's name in logs, traces and probes."""
    port: Port = 8083
    """The port the gateway reaches the orchestrator on."""
    database_schema: str | None = "orchestrator"
    """The PostgreSQL schema the orchestrator owns."""

    # Sessions: what a user may ask for (docs/sandboxes.md).
    sandbox_images: str = "skiff-sandbox:latest"
    """Comma-separated allow-list of sandbox images a session may ask for; the first is the
    default."""
    max_sessions_per_organization: int = 10
    """Live sessions an organization may have at once; more is 429 `too_many_sessions`."""
    session_cpu_min: float = 0.25
    """Fewest CPUs a session may ask for."""
    session_cpu_max: float = 4.0
    """Most CPUs a session may ask for."""
    session_cpu_default: float = 1.0
    """CPUs of a session that names none."""
    session_memory_min_mb: int = 128
    """Least memory a session may ask for, in MiB."""
    session_memory_max_mb: int = 8192
    """Most memory a session may ask for, in MiB."""
    session_memory_default_mb: int = 512
    """Memory of a session that names none, in MiB."""
    session_timeout_min_seconds: int = 10
    """Shortest lifetime (and idle timeout) a session may ask for, in seconds of running
    time."""
    session_timeout_max_seconds: int = 24 * 3600
    """Longest lifetime a session may ask for, in seconds of running time."""
    session_timeout_default_seconds: int = 3600
    """Lifetime of a session that names none, in seconds of running time."""
    session_idle_timeout_default_seconds: int = 300
    """Idle timeout of a session that names none, in seconds (at most its lifetime)."""
    session_network_default: str = "none"
    """Network of a session that names none: `none` or `egress`."""
    session_wait_max_seconds: float = 25.0
    """Seconds `POST /sessions?wait=true` waits for `running` (or `failed`) before it answers
    the session as it stands; below the gateway's 30 s upstream timeout."""
    # Sizes are measured as JSON, the form in which they travel on the bus (NATS accepts 1 MiB
    # per message by default); together a task's command, env and stdin fit in one message.
    session_env_max_entries: int = 64
    """Most variables in the `env` of a session (or a task)."""
    session_env_max_bytes: int = 32 * 1024
    """Largest `env` of a session (or a task), in bytes as JSON."""
    session_metadata_max_entries: int = 32
    """Most entries in a session's `metadata`."""
    session_metadata_max_bytes: int = 4 * 1024
    """Largest `metadata` of a session, in bytes as JSON."""

    # Tasks.
    task_timeout_default_seconds: int = 600
    """Time limit of a task that names none, in seconds (`timed_out` past it)."""
    task_timeout_max_seconds: int = 24 * 3600
    """Longest time limit a task may ask for, in seconds."""
    task_command_max_bytes: int = 64 * 1024
    """Largest task command, in bytes as JSON."""
    task_stdin_max_bytes: int = 512 * 1024
    """Largest task stdin, in UTF-8 bytes (it travels as base64, 4/3 of that)."""
    task_output_limit_bytes: int = 256 * 1024
    """Output kept per task and per stream (stdout, stderr), in bytes; beyond it the
    transcript is cut and `truncated` is true."""
    task_wait_margin_seconds: float = 10.0
    """Seconds `?wait=true` waits beyond the task's own time limit."""
    # Below the gateway's upstream read timeout (30 s), so a long task never turns into a 504.
    task_wait_max_seconds: float = 25.0
    """Seconds `POST .../tasks?wait=true` waits at most before it answers 202 with the task as
    it stands."""

    # Request/reply deadlines.
    billing_rpc_timeout_seconds: float = 2.0
    """Seconds billing may take to answer the credit check of a new session."""
    runner_rpc_timeout_seconds: float = 5.0
    """Seconds a sandbox-runner may take to answer a request (exec, cancel, pause, touch...)."""

    # Reaper and reconciliation.
    reaper_interval_seconds: float = 5.0
    """How often, in seconds, the reaper looks for lost runners and stuck sessions and tasks."""
    runner_lost_seconds: float = 15.0
    """Seconds a runner may be missing from the registry before its live sessions are
    `failed` (`runner_lost`)."""
    start_deadline_seconds: float = 120.0
    """Seconds a session may stay `starting` before it is `failed` (`not_scheduled`)."""
    stale_queued_task_seconds: float = 60.0
    """Seconds a task may stay `queued` without a runner accepting it before it is `failed`."""

    # Live streams (SSE and WebSocket).
    stream_heartbeat_seconds: float = 15.0
    """Seconds of quiet after which an SSE stream sends `event: heartbeat` (also the poll of
    `?wait=true`)."""
    stream_touch_seconds: float = 10.0
    """How often, in seconds, an open stream or WebSocket tells the runner its session is in
    use (so it is not idle)."""

    def allowed_images(self) -> list[str]:
        """The operator's image allow-list, in order (the first one is the default)."""
        return [image.strip() for image in self.sandbox_images.split(",") if image.strip()]
