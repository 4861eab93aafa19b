"""The sandbox runner's settings, from SKIFF_* environment variables.

Every field is `SKIFF_<FIELD>`: `SKIFF_RUNNER_ID`, `SKIFF_BACKEND`, `SKIFF_WARM_POOL_SIZE`...
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Literal

from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_kit.settings import ServiceSettings

KiB = 1024
MiB = 1024 * KiB
_WILDCARDS = ("", "0.0.0.0", "::")


class SandboxRunnerSettings(ServiceSettings, kw_only=True):
    service_name: str = "sandbox_runner"
    port: int = 8084
    database_schema: str | None = "sandbox"
    # Set by `skiff up` for each replica; part of the default runner id.
    replica: int = 0
    # Stable across restarts, so a restarted runner adopts its own sandboxes.
    runner_id: str = ""
    backend: Literal["auto", "docker", "local"] = "auto"
    default_image: str = "skiff-sandbox:latest"
    # The spec a warm sandbox has; a request with this image, cpu, memory and no network
    # may take a warm one (env is applied per exec, lifetimes are enforced by the runner).
    default_cpu: float = 1.0
    default_memory_mb: int = 512
    workspace_root: str = ".skiff/sandboxes"
    # Docker backend: the engine (None: DOCKER_HOST or the local socket), limits, the uid that
    # owns workspace files (the image's user), the network of sessions with egress.
    docker_url: str | None = None
    sandbox_uid: int = 1000
    pids_limit: int = 256
    tmp_size_mb: int = 64
    egress_network: str = "skiff-egress"
    warm_pool_size: int = 0
    task_output_limit_bytes: int = 256 * KiB
    file_upload_limit_bytes: int = 100 * MiB
    tree_entry_limit: int = 10_000
    heartbeat_interval_seconds: float = 2.0
    registry_ttl_seconds: float = 10.0
    lifecycle_tick_seconds: float = 1.0
    liveness_check_seconds: float = 5.0
    # A request older than this is not started any more (the orchestrator gave up on it).
    start_deadline_seconds: float = 120.0
    # Where the gateway reaches THIS process's file routes; derived from host and port if unset.
    advertise_url: str = ""

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
