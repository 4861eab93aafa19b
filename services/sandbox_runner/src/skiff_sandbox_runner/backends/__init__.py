"""Sandbox backends: `docker` (hardened containers) and `local` (subprocesses, no isolation)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from skiff_sandbox_runner.backends.base import BackendError, SandboxBackend

BackendName = Literal["docker", "local"]


def make_backend(
    name: str,
    *,
    runner_id: str,
    workspace_root: Path,
    pids_limit: int = 256,
    tmp_size_mb: int = 64,
    egress_network: str = "skiff-egress",
    docker_url: str | None = None,
    sandbox_uid: int = 1000,
) -> SandboxBackend:
    """The backend the runner's settings name; the docker options are ignored by `local`."""
    if name == "local":
        from skiff_sandbox_runner.backends.local import LocalBackend

        return LocalBackend(runner_id, workspace_root)
    if name == "docker":
        from skiff_sandbox_runner.backends.docker import DockerBackend

        return DockerBackend(
            runner_id,
            workspace_root,
            pids_limit=pids_limit,
            tmp_size_mb=tmp_size_mb,
            egress_network=egress_network,
            docker_url=docker_url,
            sandbox_uid=sandbox_uid,
        )
    raise BackendError(f"unknown sandbox backend {name!r} (expected 'docker' or 'local')")
