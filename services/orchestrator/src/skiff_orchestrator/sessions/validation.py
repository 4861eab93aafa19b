"""A create-session body checked against the operator's bounds, every bad field at once."""

from __future__ import annotations

from skiff_contracts.events.orchestrator import SandboxSpec

from skiff_orchestrator.sessions.schemas import CreateSession
from skiff_orchestrator.settings import OrchestratorSettings
from skiff_orchestrator.validation import FieldErrors, check_string_map


def sandbox_spec(body: CreateSession, settings: OrchestratorSettings) -> SandboxSpec:
    """The spec to start, defaults filled in; 400 `validation_error` naming each bad field."""
    errors = FieldErrors()
    s = settings
    images = settings.allowed_images()
    image = body.image if body.image is not None else images[0]
    if image not in images:
        errors.add("image", f"is not an allowed image; allowed: {', '.join(images)}")
    resources = body.resources
    cpu = resources.cpu if resources and resources.cpu is not None else s.session_cpu_default
    if not s.session_cpu_min <= cpu <= s.session_cpu_max:
        errors.add(
            "resources.cpu", f"must be between {s.session_cpu_min:g} and {s.session_cpu_max:g}"
        )
    memory = (
        resources.memory_mb
        if resources and resources.memory_mb is not None
        else s.session_memory_default_mb
    )
    if not s.session_memory_min_mb <= memory <= s.session_memory_max_mb:
        errors.add(
            "resources.memory_mb",
            f"must be between {s.session_memory_min_mb} and {s.session_memory_max_mb} MiB",
        )
    timeout = (
        body.timeout_seconds
        if body.timeout_seconds is not None
        else s.session_timeout_default_seconds
    )
    timeout_ok = s.session_timeout_min_seconds <= timeout <= s.session_timeout_max_seconds
    if not timeout_ok:
        errors.add(
            "timeout_seconds",
            f"must be between {s.session_timeout_min_seconds} and "
            f"{s.session_timeout_max_seconds} seconds",
        )
    idle = body.idle_timeout_seconds
    if idle is None:
        idle = s.session_idle_timeout_default_seconds
        idle = min(idle, timeout) if timeout_ok else idle
    upper = timeout if timeout_ok else s.session_timeout_max_seconds
    if not s.session_timeout_min_seconds <= idle <= upper:
        errors.add(
            "idle_timeout_seconds",
            f"must be between {s.session_timeout_min_seconds} seconds and the session's "
            f"timeout ({upper} seconds)",
        )
    env = body.env or {}
    check_string_map(
        errors, "env", env, max_entries=s.session_env_max_entries, max_bytes=s.session_env_max_bytes
    )
    for key in env:
        if not key or "=" in key or "\x00" in key:
            errors.add(f"env.{key}", "is not a valid environment variable name")
    check_string_map(
        errors,
        "metadata",
        body.metadata or {},
        max_entries=s.session_metadata_max_entries,
        max_bytes=s.session_metadata_max_bytes,
    )
    network = body.network or s.session_network_default
    errors.raise_if_any()
    return SandboxSpec(
        image=image,
        cpu=cpu,
        memory_mb=memory,
        network=network,
        timeout_seconds=timeout,
        idle_timeout_seconds=idle,
        env=env,
    )


def metadata_of(body: CreateSession) -> dict[str, str]:
    return dict(body.metadata or {})
