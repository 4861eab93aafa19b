"""The hardened container a sandbox runs in, as a Docker Engine API create body.

Everything a user could use to reach the host is off: no capabilities, no new privileges
(setuid binaries do nothing), a non-root user, a read-only root filesystem, no network unless
asked, bounded pids/memory (no swap)/CPU and /tmp. The host paths mounted are the sandbox's
own workspace, its own agent directory (the agent's socket) and the agent's script, read-only;
never the Docker socket.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from skiff_contracts.events.orchestrator import SandboxSpec

from skiff_sandbox_runner.backends.base import merged_env

LABEL_MANAGED = "skiff.managed"
LABEL_RUNNER = "skiff.runner"
LABEL_SANDBOX = "skiff.sandbox"
LABEL_SESSION = "skiff.session"
LABEL_SPEC = "skiff.spec"
LABEL_CREATED = "skiff.created_at"

# Without docker-init as PID 1, a shell loop is PID 1: `wait` reaps orphans that would
# otherwise pile up as zombies against the pids limit.
REAPER_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"]
IDLE_COMMAND = ["sleep", "infinity"]
# With docker-init: the sandbox agent (sandbox_agent.py) runs commands for the runner; if it
# cannot run (no python3 in the image) or ends, the container idles and `docker exec` serves.
AGENT_DIRECTORY = "/run/skiff"
AGENT_SCRIPT = "/opt/skiff/sandbox_agent.py"
AGENT_COMMAND = [
    "/bin/sh",
    "-c",
    f"python3 -I -S {AGENT_SCRIPT} {AGENT_DIRECTORY}/agent.sock; exec sleep infinity",
]


def container_name(sandbox_id: str) -> str:
    """The container's name: one container per sandbox id, even if a start is retried."""
    return f"skiff-{sandbox_id}"


def container_config(
    *,
    spec: SandboxSpec,
    labels: dict[str, str],
    workspace: Path,
    network_mode: str,
    sandbox_uid: int,
    pids_limit: int,
    tmp_size_mb: int,
    use_init: bool,
    agent_directory: Path | None = None,
) -> dict[str, Any]:
    """The create body for a sandbox container (with the agent when `agent_directory` is set
    and docker-init is PID 1)."""
    memory = spec.memory_mb * 1024 * 1024
    env = merged_env({"HOME": "/workspace"}, spec.env)
    with_agent = use_init and agent_directory is not None
    host_config: dict[str, Any] = {
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"],
        "Privileged": False,
        "ReadonlyRootfs": True,
        "Mounts": [
            {
                "Type": "bind",
                "Source": str(workspace),
                "Target": "/workspace",
                "ReadOnly": False,
                "BindOptions": {"Propagation": "rprivate"},
            }
        ],
        "Tmpfs": {"/tmp": f"rw,nosuid,nodev,size={tmp_size_mb}m,mode=1777"},  # noqa: S108
        "PidsLimit": pids_limit,
        "Memory": memory,
        "MemorySwap": memory,
        "NetworkMode": network_mode,
        "IpcMode": "private",
        "Init": use_init,
        "RestartPolicy": {"Name": "no"},
    }
    if spec.cpu > 0:
        host_config["NanoCpus"] = int(spec.cpu * 1_000_000_000)
    if with_agent:
        assert agent_directory is not None
        host_config["Mounts"] += _agent_mounts(agent_directory)
    return {
        "Image": spec.image,
        "Cmd": (AGENT_COMMAND if with_agent else IDLE_COMMAND) if use_init else REAPER_COMMAND,
        "Entrypoint": [""],  # [""] clears an image entrypoint; [] would keep it
        "User": f"{sandbox_uid}:{sandbox_uid}",
        "WorkingDir": "/workspace",
        "Hostname": "sandbox",
        "Env": [f"{name}={value}" for name, value in env.items()],
        "Labels": labels,
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": False,
        "OpenStdin": False,
        "NetworkDisabled": network_mode == "none",
        "HostConfig": host_config,
    }


# The agent's script is mounted from a copy beside the agents' sockets, not from the package:
# a runner in a container shares only its workspace root with the engine's host (deploy.md).
AGENT_SCRIPT_COPY = ".sandbox_agent.py"


def install_agent_script(agent_root: Path) -> None:
    """Put the current agent script at `agent_root/AGENT_SCRIPT_COPY` unless it is there."""
    code = Path(__file__).with_name("sandbox_agent.py").read_bytes()
    target = agent_root / AGENT_SCRIPT_COPY
    if target.is_file() and target.read_bytes() == code:
        return
    # A file of its own for each writer: sandboxes start on several threads at once.
    descriptor, temporary = tempfile.mkstemp(prefix=f"{AGENT_SCRIPT_COPY}.", dir=agent_root)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(code)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)


def _agent_mounts(agent_directory: Path) -> list[dict[str, Any]]:
    """The agent's script (read-only) and its socket's directory (this sandbox's own)."""
    script = agent_directory.parent / AGENT_SCRIPT_COPY
    return [
        {"Type": "bind", "Source": str(script), "Target": AGENT_SCRIPT, "ReadOnly": True},
        {
            "Type": "bind",
            "Source": str(agent_directory),
            "Target": AGENT_DIRECTORY,
            "ReadOnly": False,
            "BindOptions": {"Propagation": "rprivate"},
        },
    ]
