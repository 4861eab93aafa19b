"""What a sandbox backend does: start, exec in, pause, resume and remove sandboxes.

Two backends implement it: `docker` (hardened containers through aiodocker) and `local`
(subprocesses in a scratch directory; not an isolation boundary). The runner service only
talks to this protocol, so its behaviour is the same on both.

A sandbox has a workspace directory on the runner's host (bind-mounted at `/workspace` in a
container); file routes work on that directory directly (see `workspace.py`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from skiff_contracts.events.orchestrator import SandboxSpec

from skiff_sandbox_runner.workspace import WorkspaceError, ensure_directory

StreamName = Literal["stdout", "stderr"]


class BackendError(Exception):
    """The backend could not do what was asked; `reason` is fit to show a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Sandbox:
    """One sandbox on this runner.

    `sandbox_id` (`sbx_...`) names it in the backend (container label, workspace directory);
    `session_id` is None while it waits in the warm pool.
    """

    sandbox_id: str
    backend: str
    runner_id: str
    spec: SandboxSpec
    workspace: Path
    created_at: datetime
    session_id: str | None = None
    # The backend's own handle: the container id (docker) or the scratch dir (local).
    handle: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended: its exit code (None if it never produced one) and why, if killed."""

    exit_code: int | None
    error: str | None = None  # e.g. "killed: out of memory (limit 256 MiB)"


class Process(Protocol):
    """A command running in a sandbox."""

    def output(self) -> AsyncIterator[tuple[StreamName, bytes]]:
        """stdout and stderr chunks in the order they were read, until both close."""
        ...

    async def write_stdin(self, data: bytes) -> None:
        """Write to the process's stdin (a no-op once it is closed)."""

    async def close_stdin(self) -> None:
        """Close stdin (EOF)."""

    async def wait(self) -> ExitStatus:
        """Wait for the process to exit (call after `output()` is exhausted)."""
        ...

    async def kill(self) -> None:
        """Kill the process and everything it started (its whole process group)."""


class SandboxBackend(Protocol):
    """A place to run sandboxes."""

    name: str

    async def start(self, sandbox_id: str, spec: SandboxSpec, session_id: str | None) -> Sandbox:
        """Create and start a sandbox; raises BackendError with a reason on failure."""
        ...

    async def exec(
        self,
        sandbox: Sandbox,
        command: str,
        *,
        env: Mapping[str, str],
        cwd: str | None,
    ) -> Process:
        """Run `/bin/sh -c command` (cwd relative to the workspace; env adds to the image's)."""
        ...

    async def pause(self, sandbox: Sandbox) -> None:
        """Freeze every process of the sandbox."""

    async def resume(self, sandbox: Sandbox) -> None:
        """Thaw a paused sandbox."""

    async def remove(self, sandbox: Sandbox) -> None:
        """Kill everything and delete the sandbox and its workspace; idempotent."""

    async def is_running(self, sandbox: Sandbox) -> bool:
        """True while the sandbox exists and has not died."""
        ...

    async def list_managed(self) -> list[Sandbox]:
        """Sandboxes of this runner that still exist (for adoption after a restart)."""
        ...

    async def close(self) -> None:
        """Release the backend's own resources (connections); sandboxes keep running."""


# Helpers shared by the backends (additions; the protocol above is unchanged).

_SANDBOX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def check_sandbox_id(sandbox_id: str) -> None:
    """Refuse a sandbox id that could not safely name a directory or a label."""
    if not _SANDBOX_ID.fullmatch(sandbox_id):
        raise BackendError(f"invalid sandbox id {sandbox_id!r}")


def merged_env(*layers: Mapping[str, str]) -> dict[str, str]:
    """Environment layers merged left to right (later wins); refuses names a shell cannot hold."""
    merged: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.items():
            if not name or "=" in name or "\x00" in name or "\x00" in value:
                raise BackendError(f"invalid environment variable {name!r}")
            merged[name] = value
    return merged


async def confined_cwd(workspace: Path, cwd: str | None) -> str:
    """`cwd` as a "/"-rooted path of an existing directory of the workspace, or BackendError."""
    try:
        return await asyncio.to_thread(ensure_directory, workspace, cwd or "/")
    except WorkspaceError as error:
        raise BackendError(f"invalid working directory: {error.reason}") from None
