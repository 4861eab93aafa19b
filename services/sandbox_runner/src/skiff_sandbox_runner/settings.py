"""The sandbox runner's settings, from SKIFF_* environment variables.

Every field is `SKIFF_<FIELD>`: `SKIFF_RUNNER_ID`, `SKIFF_BACKEND`, `SKIFF_WARM_POOL_SIZE`...
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Literal

from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_kit.settings import Port, ServiceSettings

KiB = 1024
MiB = 1024 * KiB
_WILDCARDS = ("", "0.0.0.0", "::")


class SandboxRunnerSettings(ServiceSettings, kw_only=True):
    """The sandbox runner's own settings, on top of the ones every service reads."""

    service_name: str = "sandbox_runner"
    """The service's name in logs, traces and probes."""
    port: Port = 8084
    """The port of the runner's file routes (the gateway reaches each runner at its own
    address)."""
    database_schema: str | None = "sandbox"
    """The PostgreSQL schema the runners own."""
    replica: int = 0
    """This replica's index, set by `skiff up`; part of the default runner id."""
    runner_id: str = ""
    """This runner's name, stable across restarts so a restarted runner adopts its own
    sandboxes; one per host. Empty: `<hostname>-<replica>`."""
    backend: Literal["auto", "docker", "local"] = "auto"
    """`docker` (hardened containers), `local` (subprocesses in a scratch folder: isolates
    nothing) or `auto` (docker when the engine answers and the image exists, else local)."""
    default_image: str = "skiff-sandbox:latest"
    """The image of warm-pool sandboxes, and the one `auto` looks for."""
    # The spec a warm sandbox has; a request with this image, cpu, memory and no network
    # may take a warm one (env is applied per exec, lifetimes are enforced by the runner).
    default_cpu: float = 1.0
    """CPUs of a warm-pool sandbox."""
    default_memory_mb: int = 512
    """Memory of a warm-pool sandbox, in MiB."""
    workspace_root: str = ".skiff/sandboxes"
    """The folder under which sandbox workspaces live (with docker, the same path on the
    host: the engine mounts workspaces by host path)."""
    # Docker backend: the engine, limits, the uid that owns workspace files, the network of
    # sessions with egress.
    docker_url: str | None = None
    """The Docker engine's URL; unset: `DOCKER_HOST` or the local socket."""
    sandbox_uid: int = 1000
    """The uid that owns workspace files (the sandbox image's user)."""
    pids_limit: int = 256
    """Most processes in one sandbox."""
    tmp_size_mb: int = 64
    """Size of a sandbox's `/tmp` (a tmpfs), in MiB."""
    egress_network: str = "skiff-egress"
    """The Docker network of sessions with `network: egress` (created if missing)."""
    warm_pool_size: int = 0
    """Sandboxes kept started ahead of requests (0: none)."""
    task_output_limit_bytes: int = 256 * KiB
    """Output kept per task and per stream (stdout, stderr), in bytes; beyond it the
    transcript is cut."""
    file_upload_limit_bytes: int = 100 * MiB
    """Largest file upload into a workspace, in bytes."""
    tree_entry_limit: int = 10_000
    """Most entries a recursive listing of workspace files returns (then `truncated`)."""
    heartbeat_interval_seconds: float = 2.0
    """How often, in seconds, the runner refreshes its entry in the runner registry (NATS
    KV)."""
    registry_ttl_seconds: float = 10.0
    """Seconds the registry keeps a runner's entry without a refresh."""
    lifecycle_tick_seconds: float = 1.0
    """How often, in seconds, idle timeouts, lifetimes and per-minute usage are checked."""
    liveness_check_seconds: float = 5.0
    """How often, in seconds, each sandbox is checked to be still running."""
    start_deadline_seconds: float = 120.0
    """A start request older than this, in seconds, is not started any more (the
    orchestrator gave up on it)."""
    advertise_url: str = ""
    """Where the gateway reaches THIS process's file routes; empty: derived from the host
    name and the private (else public) port."""

    def resolved_runner_id(self) -> str:
        """`SKIFF_RUNNER_ID`, else `<hostname>-<replica>`; fit for NATS subjects and durables.

        Anything but letters, digits, `-` and `_` becomes `-` (a hostname's dots would split
        `rpc.sandbox.<runner_id>.<verb>`).
        """
        raw = self.runner_id or f"{socket.gethostname()}-{self.replica}"
        return re.sub(r"[^A-Za-z0-9_-]", "-", raw)

    def resolved_url(self) -> str:
        """This process's own HTTP address: the private port reaches this replica alone."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = socket.gethostname() if self.host in _WILDCARDS else self.host
        if ":" in host:
            host = f"[{host}]"
        port = self.private_port if self.private_port is not None else self.port
        return f"http://{host}:{port}"

    def workspace_path(self) -> Path:
        """The folder under which sandbox workspaces live."""
        return Path(self.workspace_root).resolve()

    def warm_spec(self) -> SandboxSpec:
        """The spec of warm-pool sandboxes (lifetimes are the runner's business, not the pool's)."""
        return SandboxSpec(
            image=self.default_image,
            cpu=self.default_cpu,
            memory_mb=self.default_memory_mb,
            network="none",
            timeout_seconds=3600,
            idle_timeout_seconds=600,
        )

    def matches_warm_spec(self, spec: SandboxSpec) -> bool:
        """True when a session with `spec` may take a warm sandbox."""
        return (
            spec.image == self.default_image
            and spec.cpu == self.default_cpu
            and spec.memory_mb == self.default_memory_mb
            and spec.network == "none"
        )
