"""The `local` backend: subprocesses in a scratch directory, for hosts without a container engine.

It is NOT an isolation boundary: commands run as the runner's user with the runner's view of
the host; there is no network, memory or pids limit. Each command leads its own process
group, so kill, pause and resume reach everything it started (unless it calls setsid itself).
A sandbox is its workspace directory plus a record under `<workspace_root>/.skiff-local/`;
processes do not survive a runner restart, so an adopted local sandbox has none running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_kit.logging import get_logger

from skiff_sandbox_runner.backends.base import (
    DEFAULT_PATH,
    BackendError,
    ExitStatus,
    Sandbox,
    StreamName,
    check_sandbox_id,
    confined_cwd,
    merged_env,
)

_log = get_logger("skiff.sandbox_runner.local")
_CHUNK_BYTES = 64 * 1024
_RECORDS_DIR = ".skiff-local"


class _Record(msgspec.Struct, frozen=True, kw_only=True):
    """What a local sandbox's record file holds, so a restarted runner can list it."""

    sandbox_id: str
    runner_id: str
    spec: SandboxSpec
    session_id: str | None
    created_at: datetime


class LocalProcess:
    """A command of a local sandbox: the leader of its own process group."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pgid = process.pid

    async def output(self) -> AsyncIterator[tuple[StreamName, bytes]]:
        """stdout and stderr chunks as they are read, until both pipes close."""
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        streams: dict[StreamName, asyncio.StreamReader] = {
            "stdout": self._process.stdout,
            "stderr": self._process.stderr,
        }
        reads = {
            asyncio.ensure_future(reader.read(_CHUNK_BYTES)): name
            for name, reader in streams.items()
        }
        try:
            while reads:
                done, _ = await asyncio.wait(reads, return_when=asyncio.FIRST_COMPLETED)
                for read in sorted(done, key=lambda future: reads[future]):
                    name = reads.pop(read)
                    if data := read.result():
                        yield name, data
                        reads[asyncio.ensure_future(streams[name].read(_CHUNK_BYTES))] = name
        finally:
            for read in reads:
                read.cancel()

    async def write_stdin(self, data: bytes) -> None:
        """Write to stdin; a no-op once stdin or the process is gone."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(data)
            await stdin.drain()

    async def close_stdin(self) -> None:
        """Send EOF."""
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                stdin.close()

    async def wait(self) -> ExitStatus:
        """The exit code; a process killed by signal N reports 128 + N, as a shell would."""
        code = await self._process.wait()
        return ExitStatus(exit_code=128 - code if code < 0 else code)

    async def kill(self) -> None:
        """SIGKILL the whole process group (the command and every child it started)."""
        self.signal_group(signal.SIGKILL)

    def signal_group(self, signum: signal.Signals) -> bool:
        """Signal the process group; False once the group has no process left."""
        try:
            os.killpg(self.pgid, signum)
        except ProcessLookupError:
            return False
        return True


class LocalBackend:
    """Sandboxes as scratch directories of `workspace_root` and plain subprocesses."""

    name = "local"

    def __init__(self, runner_id: str, workspace_root: Path) -> None:
        self.runner_id = runner_id
        self.workspace_root = workspace_root
        # Files the runner writes stay the runner's: commands run as the runner's user here.
        self.file_owner: tuple[int, int] | None = None
        self._processes: dict[str, list[LocalProcess]] = {}
        self._paused: set[str] = set()
        _log.warning(
            "the local sandbox backend is NOT an isolation boundary: sandbox commands run "
            "as this runner's user, with its access to the host, its network and no limits; "
            "use the docker backend for untrusted code",
            runner_id=runner_id,
            workspace_root=str(workspace_root),
        )

    def _records(self) -> Path:
        return self.workspace_root / _RECORDS_DIR

    async def start(self, sandbox_id: str, spec: SandboxSpec, session_id: str | None) -> Sandbox:
        """Create the workspace directory and the sandbox's record."""
        check_sandbox_id(sandbox_id)
        record = _Record(
            sandbox_id=sandbox_id,
            runner_id=self.runner_id,
            spec=spec,
            session_id=session_id,
            created_at=datetime.now(UTC),
        )
        workspace = self.workspace_root / sandbox_id
        await asyncio.to_thread(self._create, workspace, record)
        return self._sandbox(record)

    def _create(self, workspace: Path, record: _Record) -> None:
        workspace.mkdir(parents=True, exist_ok=True)
        self._records().mkdir(exist_ok=True)
        path = self._records() / f"{record.sandbox_id}.json"
        path.write_bytes(msgspec.json.encode(record))

    def _sandbox(self, record: _Record) -> Sandbox:
        workspace = self.workspace_root / record.sandbox_id
        return Sandbox(
            sandbox_id=record.sandbox_id,
            backend=self.name,
            runner_id=record.runner_id,
            spec=record.spec,
            workspace=workspace,
            created_at=record.created_at,
            session_id=record.session_id,
            handle=str(workspace),
        )

    async def exec(
        self,
        sandbox: Sandbox,
        command: str,
        *,
        env: Mapping[str, str],
        cwd: str | None,
    ) -> LocalProcess:
        """Run `/bin/sh -c command` in its own process group, in the workspace."""
        if sandbox.sandbox_id in self._paused:
            raise BackendError("the sandbox is paused")
        directory = await confined_cwd(sandbox.workspace, cwd)
        base = {"PATH": DEFAULT_PATH, "HOME": str(sandbox.workspace), "LANG": "C.UTF-8"}
        try:
            process = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=sandbox.workspace / directory.lstrip("/"),
                env=merged_env(base, sandbox.spec.env, env),
                start_new_session=True,
            )
        except OSError as error:
            raise BackendError(f"could not start the command: {error}") from error
        started = LocalProcess(process)
        self._processes.setdefault(sandbox.sandbox_id, []).append(started)
        return started

    def _signal_all(self, sandbox: Sandbox, signum: signal.Signals) -> None:
        """Signal every process group of the sandbox that still has a process; forget the rest."""
        live = self._processes.get(sandbox.sandbox_id, [])
        self._processes[sandbox.sandbox_id] = [p for p in live if p.signal_group(signum)]

    async def pause(self, sandbox: Sandbox) -> None:
        """SIGSTOP every process group of the sandbox."""
        self._paused.add(sandbox.sandbox_id)
        self._signal_all(sandbox, signal.SIGSTOP)

    async def resume(self, sandbox: Sandbox) -> None:
        """SIGCONT every process group of the sandbox."""
        self._paused.discard(sandbox.sandbox_id)
        self._signal_all(sandbox, signal.SIGCONT)

    async def remove(self, sandbox: Sandbox) -> None:
        """Kill every process, delete the workspace and the record; idempotent."""
        self._signal_all(sandbox, signal.SIGKILL)
        self._processes.pop(sandbox.sandbox_id, None)
        self._paused.discard(sandbox.sandbox_id)
        await asyncio.to_thread(self._delete, sandbox.sandbox_id)

    def _delete(self, sandbox_id: str) -> None:
        workspace = self.workspace_root / sandbox_id
        if workspace.exists():
            shutil.rmtree(workspace, onerror=_make_writable_and_retry)
        (self._records() / f"{sandbox_id}.json").unlink(missing_ok=True)

    async def is_running(self, sandbox: Sandbox) -> bool:
        """A local sandbox lives as long as its workspace directory."""
        return await asyncio.to_thread(sandbox.workspace.is_dir)

    async def list_managed(self) -> list[Sandbox]:
        """This runner's sandboxes whose workspace still exists."""
        return await asyncio.to_thread(self._list)

    def _list(self) -> list[Sandbox]:
        found: list[Sandbox] = []
        if not self._records().is_dir():
            return found
        for path in sorted(self._records().glob("*.json")):
            try:
                record = msgspec.json.decode(path.read_bytes(), type=_Record)
            except (OSError, msgspec.DecodeError):
                _log.warning("unreadable local sandbox record", path=str(path))
                continue
            if (
                record.runner_id == self.runner_id
                and (self.workspace_root / record.sandbox_id).is_dir()
            ):
                found.append(self._sandbox(record))
        return found

    async def close(self) -> None:
        """Nothing to release: processes keep running until their sandbox is removed."""


def _make_writable_and_retry(
    function: Callable[[str], object], path: str, _: tuple[object, ...]
) -> None:
    """A sandbox may leave read-only directories behind; make the parent writable and retry."""
    if not os.path.lexists(path):
        return
    os.chmod(os.path.dirname(path), 0o700)
    function(path)
