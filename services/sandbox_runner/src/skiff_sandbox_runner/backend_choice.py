"""Which sandbox backend this runner uses: `docker` when it can, `local` (loudly) otherwise."""

from __future__ import annotations

import aiodocker
import structlog

from skiff_sandbox_runner.backends import make_backend
from skiff_sandbox_runner.backends.base import SandboxBackend
from skiff_sandbox_runner.settings import SandboxRunnerSettings

log = structlog.get_logger("skiff_sandbox_runner.backend")


async def docker_unusable(settings: SandboxRunnerSettings) -> str | None:
    """Why the docker backend cannot serve sessions here, or None when it can."""
    try:
        docker = aiodocker.Docker(url=settings.docker_url)
    except Exception as exc:
        return f"no container engine configured ({exc})"
    try:
        try:
            await docker.version()
        except Exception as exc:
            return f"the container engine does not answer ({exc})"
        try:
            await docker.images.inspect(settings.default_image)
        except aiodocker.DockerError:
            return (
                f"the default image {settings.default_image} is not built"
                " (build it with `make sandbox-image`)"
            )
        return None
    finally:
        await docker.close()


async def choose_backend(settings: SandboxRunnerSettings, runner_id: str) -> SandboxBackend:
    """`SKIFF_BACKEND`: docker, local, or auto (docker if its engine and image are there)."""
    name: str = settings.backend
    if name == "auto":
        reason = await docker_unusable(settings)
        if reason is None:
            name = "docker"
        else:
            name = "local"
            log.warning(
                "SANDBOXES ARE NOT ISOLATED: using the local backend because docker is unusable;"
                " sandbox commands run as this runner's user with full access to the host",
                reason=reason,
            )
    workspace_root = settings.workspace_path()
    workspace_root.mkdir(parents=True, exist_ok=True)
    return make_backend(
        name,
        runner_id=runner_id,
        workspace_root=workspace_root,
        pids_limit=settings.pids_limit,
        tmp_size_mb=settings.tmp_size_mb,
        egress_network=settings.egress_network,
        docker_url=settings.docker_url,
        sandbox_uid=settings.sandbox_uid,
    )
