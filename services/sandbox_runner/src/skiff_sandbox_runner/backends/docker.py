"""The `docker` backend: one hardened container per sandbox, driven through aiodocker.

The runner must run as root on the engine's host (it chowns workspaces to the sandbox user,
reads container cgroups, checks who answers on the agent's socket, and on the `docker exec`
fallback kills process trees by their host pid). Commands go through the sandbox agent
(sandbox_agent.py) when it answers. Images are local only; `make sandbox-image` builds the
default one.

Network: "none" gives a container with only `lo`. "egress" attaches the user-defined bridge
`egress_network` (created if missing). On an engine started with `--iptables=false
--bridge=none` (scripts/docker-engine.sh) that bridge has no NAT and no isolation rules: it
reaches the internet only if the host routes it, and it can reach the host's own addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import aiodocker
import msgspec
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_kit.logging import get_logger

from skiff_sandbox_runner.backends import docker_config as cfg
from skiff_sandbox_runner.backends.agent_process import AgentPeer, AgentProcess, AgentUnavailable
from skiff_sandbox_runner.backends.base import (
    BackendError,
    Sandbox,
    check_sandbox_id,
    confined_cwd,
    merged_env,
)
from skiff_sandbox_runner.backends.docker_exec import DockerProcess
from skiff_sandbox_runner.backends.host_processes import memory_cgroup_counter, oom_kills

_log = get_logger("skiff.sandbox_runner.docker")


class DockerBackend:
    """Sandboxes as hardened containers on the local Docker engine."""

    name = "docker"

    def __init__(
        self,
        runner_id: str,
        workspace_root: Path,
        *,
        pids_limit: int = 256,
        tmp_size_mb: int = 64,
        egress_network: str = "skiff-egress",
        docker_url: str | None = None,
        sandbox_uid: int = 1000,
    ) -> None:
        self.runner_id = runner_id
        self.workspace_root = workspace_root.resolve()
        self.pids_limit = pids_limit
        self.tmp_size_mb = tmp_size_mb
        self.egress_network = egress_network
        self.sandbox_uid = sandbox_uid
        # Who the file routes make new files belong to, so the sandbox user can change them.
        self.file_owner: tuple[int, int] | None = (sandbox_uid, sandbox_uid)
        self._docker_url = docker_url
        self._docker: aiodocker.Docker | None = None
        self._use_init = True
        self._oom_counters: dict[str, Path | None] = {}
        self._init_pids: dict[str, int] = {}  # the container's first process, as the host sees it
        self._paused: set[str] = set()  # a frozen agent would accept and never answer
        # Each sandbox's agent socket lives in <workspace_root>/.agents/<sandbox_id>, a name
        # no sandbox id can take (ids start with a letter or digit).
        self.agent_root = self.workspace_root / ".agents"

    def agent_directory(self, sandbox_id: str) -> Path:
        return self.agent_root / sandbox_id

    def _client(self) -> aiodocker.Docker:
        if self._docker is None:
            self._docker = aiodocker.Docker(url=self._docker_url)
        return self._docker

    def _container(self, sandbox: Sandbox) -> DockerContainer:
        return self._client().containers.container(sandbox.handle)

    async def start(self, sandbox_id: str, spec: SandboxSpec, session_id: str | None) -> Sandbox:
        """Create and start the sandbox's container, with its workspace bind-mounted."""
        check_sandbox_id(sandbox_id)
        if spec.network not in ("none", "egress"):
            raise BackendError(f"unknown network {spec.network!r} (expected 'none' or 'egress')")
        network_mode = await self._egress() if spec.network == "egress" else "none"
        workspace = self.workspace_root / sandbox_id
        made = await asyncio.to_thread(self._make_workspace, workspace)
        await asyncio.to_thread(self._make_agent_directory, self.agent_directory(sandbox_id))
        created_at = datetime.now(UTC)
        labels = {
            cfg.LABEL_MANAGED: "true",
            cfg.LABEL_RUNNER: self.runner_id,
            cfg.LABEL_SANDBOX: sandbox_id,
            cfg.LABEL_SPEC: msgspec.json.encode(spec).decode(),
            cfg.LABEL_CREATED: created_at.isoformat(),
        }
        if session_id is not None:
            labels[cfg.LABEL_SESSION] = session_id
        try:
            container = await self._create_and_start(sandbox_id, spec, labels, network_mode)
        except BaseException:
            if made:  # never delete the workspace of a sandbox that already existed
                await asyncio.to_thread(_delete_tree, workspace)
                await asyncio.to_thread(_delete_tree, self.agent_directory(sandbox_id))
            raise
        return Sandbox(
            sandbox_id=sandbox_id,
            backend=self.name,
            runner_id=self.runner_id,
            spec=spec,
            workspace=workspace,
            created_at=created_at,
            session_id=session_id,
            handle=container.id,
            labels=labels,
        )

    async def _create_and_start(
        self, sandbox_id: str, spec: SandboxSpec, labels: dict[str, str], network_mode: str
    ) -> DockerContainer:
        config = cfg.container_config(
            spec=spec,
            labels=labels,
            workspace=self.workspace_root / sandbox_id,
            network_mode=network_mode,
            sandbox_uid=self.sandbox_uid,
            pids_limit=self.pids_limit,
            tmp_size_mb=self.tmp_size_mb,
            use_init=self._use_init,
            agent_directory=self.agent_directory(sandbox_id),
        )
        try:
            container = await self._client().containers.create(
                config, name=cfg.container_name(sandbox_id)
            )
        except DockerError as error:
            if error.status == 409:
                raise BackendError(f"sandbox {sandbox_id} already exists on this runner") from None
            if error.status == 404 and "image" in error.message.lower():
                # Checked here rather than before: one engine call less on every start.
                raise BackendError(
                    f"image {spec.image} is not available on this runner; "
                    "build it with `make sandbox-image`"
                ) from None
            raise BackendError(f"could not create the sandbox: {error.message}") from None
        try:
            await container.start()
        except DockerError as error:
            with contextlib.suppress(DockerError):
                await container.delete(force=True)
            if self._use_init and "docker-init" in error.message:
                _log.warning("the engine has no docker-init; PID 1 will be a reaping shell")
                self._use_init = False
                return await self._create_and_start(sandbox_id, spec, labels, network_mode)
            raise BackendError(f"could not start the sandbox: {error.message}") from None
        return container

    async def _egress(self) -> str:
        """The egress bridge network, created on first use."""
        networks = self._client().networks
        try:
            await networks.get(self.egress_network)
        except DockerError as error:
            if error.status != 404:
                raise BackendError(f"the container engine failed: {error.message}") from None
            with contextlib.suppress(DockerError):  # 409: another runner created it first
                await networks.create(
                    {
                        "Name": self.egress_network,
                        "Driver": "bridge",
                        "CheckDuplicate": True,
                        "Labels": {cfg.LABEL_MANAGED: "true"},
                        "Options": {"com.docker.network.bridge.enable_icc": "false"},
                    }
                )
            await networks.get(self.egress_network)
        return self.egress_network

    def _make_workspace(self, workspace: Path) -> bool:
        """Give the sandbox user its workspace; True if this created the directory."""
        existed = workspace.exists()
        workspace.mkdir(parents=True, exist_ok=True)
        try:
            os.chown(workspace, self.sandbox_uid, self.sandbox_uid)
        except PermissionError:
            if not existed:
                workspace.rmdir()
            raise BackendError(
                "the runner cannot give the workspace to the sandbox user "
                f"(uid {self.sandbox_uid}); run it as root"
            ) from None
        return not existed

    def _make_agent_directory(self, directory: Path) -> None:
        """The sandbox user's own directory for its agent's socket (mounted at /run/skiff)."""
        self.agent_root.mkdir(mode=0o711, exist_ok=True)
        cfg.install_agent_script(self.agent_root)
        directory.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(PermissionError):  # the workspace check above says why
            os.chown(directory, self.sandbox_uid, self.sandbox_uid)

    async def exec(
        self,
        sandbox: Sandbox,
        command: str,
        *,
        env: Mapping[str, str],
        cwd: str | None,
    ) -> AgentProcess | DockerProcess:
        """`/bin/sh -c command` as the sandbox user, stdin attached: through the sandbox's
        agent when it answers (a fork, about a millisecond), else `docker exec` (tens)."""
        directory = await confined_cwd(sandbox.workspace, cwd)
        environment = merged_env(env)
        workdir = "/workspace" + directory.rstrip("/")
        if sandbox.handle in self._paused:
            raise BackendError("the sandbox is paused")
        try:
            counter = await self._oom_counter(sandbox)
            return await AgentProcess.start(
                self.agent_directory(sandbox.sandbox_id),
                command,
                env=environment,
                cwd=workdir,
                agent=AgentPeer(uid=self.sandbox_uid, init_pid=self._init_pids[sandbox.handle]),
                memory_mb=sandbox.spec.memory_mb,
                oom_counter=counter,
            )
        except AgentUnavailable as unavailable:
            _log.debug("no sandbox agent; docker exec", reason=str(unavailable))
        except DockerError as error:
            raise _exec_error(error) from None
        try:
            execution = await self._container(sandbox).exec(
                ["/bin/sh", "-c", command],
                stdin=True,
                stdout=True,
                stderr=True,
                user=f"{self.sandbox_uid}:{self.sandbox_uid}",
                environment=environment,
                workdir=workdir,
            )
            counter = await self._oom_counter(sandbox)
            before = await asyncio.to_thread(oom_kills, counter)
            stream = execution.start(detach=False)
            await stream.__aenter__()  # starts the process and attaches the streams
        except DockerError as error:
            raise _exec_error(error) from None
        return DockerProcess(
            execution,
            stream,
            container_id=sandbox.handle,
            memory_mb=sandbox.spec.memory_mb,
            oom_counter=counter,
            oom_kills_before=before,
        )

    async def _oom_counter(self, sandbox: Sandbox) -> Path | None:
        if sandbox.handle not in self._oom_counters:
            info = await self._container(sandbox).show()
            pid = int(info["State"].get("Pid") or 0)
            self._init_pids[sandbox.handle] = pid
            counter = await asyncio.to_thread(memory_cgroup_counter, pid) if pid else None
            if counter is None:
                _log.warning("no OOM counter for the sandbox", sandbox_id=sandbox.sandbox_id)
            self._oom_counters[sandbox.handle] = counter
        return self._oom_counters[sandbox.handle]

    async def pause(self, sandbox: Sandbox) -> None:
        """Freeze the container's cgroup (docker pause); pausing twice is fine."""
        self._paused.add(sandbox.handle)
        try:
            await self._container(sandbox).pause()
        except DockerError as error:
            if "already paused" not in error.message:
                self._paused.discard(sandbox.handle)
                raise _state_error(error) from None

    async def resume(self, sandbox: Sandbox) -> None:
        """Thaw the container (docker unpause); resuming a running one is fine."""
        try:
            await self._container(sandbox).unpause()
        except DockerError as error:
            if "not paused" not in error.message:
                raise _state_error(error) from None
        self._paused.discard(sandbox.handle)

    async def remove(self, sandbox: Sandbox) -> None:
        """Force-remove the container and delete the workspace; idempotent."""
        self._oom_counters.pop(sandbox.handle, None)
        self._init_pids.pop(sandbox.handle, None)
        self._paused.discard(sandbox.handle)
        try:
            await self._container(sandbox).delete(force=True, v=True)
        except DockerError as error:
            if error.status not in (404, 409):  # gone, or removal already in progress
                raise BackendError(f"could not remove the sandbox: {error.message}") from None
        await asyncio.to_thread(_delete_tree, sandbox.workspace)
        await asyncio.to_thread(_delete_tree, self.agent_directory(sandbox.sandbox_id))

    async def is_running(self, sandbox: Sandbox) -> bool:
        """True while the container exists and runs (a paused container counts as running)."""
        try:
            info = await self._container(sandbox).show()
        except DockerError as error:
            if error.status == 404:
                return False
            raise BackendError(f"the container engine failed: {error.message}") from None
        return bool(info["State"]["Running"])

    async def list_managed(self) -> list[Sandbox]:
        """This runner's containers, running or not, rebuilt from their labels."""
        filters = {"label": [f"{cfg.LABEL_MANAGED}=true", f"{cfg.LABEL_RUNNER}={self.runner_id}"]}
        containers = await self._client().containers.list(all=True, filters=json.dumps(filters))
        found = []
        for container in containers:
            sandbox = self._from_labels(container.id, dict(container["Labels"] or {}))
            if sandbox is not None:
                found.append(sandbox)
        return found

    def _from_labels(self, container_id: str, labels: dict[str, str]) -> Sandbox | None:
        try:
            sandbox_id = labels[cfg.LABEL_SANDBOX]
            spec = msgspec.json.decode(labels[cfg.LABEL_SPEC], type=SandboxSpec)
            created_at = datetime.fromisoformat(labels[cfg.LABEL_CREATED])
        except (KeyError, ValueError, msgspec.DecodeError):
            _log.warning("a managed container has unreadable labels", container_id=container_id)
            return None
        return Sandbox(
            sandbox_id=sandbox_id,
            backend=self.name,
            runner_id=self.runner_id,
            spec=spec,
            workspace=self.workspace_root / sandbox_id,
            created_at=created_at,
            session_id=labels.get(cfg.LABEL_SESSION),
            handle=container_id,
            labels=labels,
        )

    async def close(self) -> None:
        """Close the engine connection; the containers keep running."""
        if self._docker is not None:
            await self._docker.close()
            self._docker = None


def _exec_error(error: DockerError) -> BackendError:
    if error.status == 409 and "paused" in error.message:
        return BackendError("the sandbox is paused")
    return _state_error(error)


def _state_error(error: DockerError) -> BackendError:
    if error.status == 404:
        return BackendError("the sandbox no longer exists")
    if error.status == 409:
        return BackendError(f"the sandbox is not running: {error.message}")
    return BackendError(f"the container engine failed: {error.message}")


def _delete_tree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path, ignore_errors=False)
