"""A command run by the sandbox agent (sandbox_agent.py) over its unix socket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from skiff_sandbox_runner.backends.base import ExitStatus, StreamName
from skiff_sandbox_runner.backends.host_processes import oom_kills

AGENT_SOCKET = "agent.sock"
_HEADER_SIZE = 5
_SIGKILL_EXIT = 137
_STREAMS: dict[bytes, StreamName] = {b"O": "stdout", b"R": "stderr"}


class AgentUnavailable(Exception):
    """No agent answers in this sandbox (not started, or stopped by code in the sandbox)."""


@dataclass(frozen=True)
class AgentPeer:
    """Who may answer on the socket: the sandbox user, inside the sandbox's container.

    The socket's directory is the sandbox user's: code in the sandbox could put a symlink to
    some host socket there. Nothing is sent until the peer's credentials prove it is ours.
    """

    uid: int
    init_pid: int  # the container's first process, on the host

    def check(self, sock: socket.socket) -> None:
        pid, uid, _ = struct.unpack(
            "3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        )
        if uid != self.uid or not pid or not _same_pid_namespace(pid, self.init_pid):
            raise AgentUnavailable(f"the socket's peer (pid {pid}, uid {uid}) is not the agent")


def _same_pid_namespace(pid: int, other: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{other}/ns/pid")
    except OSError:  # not visible from here: not provably ours
        return False


def _frame(kind: bytes, data: bytes = b"") -> bytes:
    return kind + len(data).to_bytes(4, "big") + data


def _exit_status(data: bytes) -> ExitStatus:
    """`X` carries the exit code, or `!` and why the command did not start."""
    if data.startswith(b"!"):
        return ExitStatus(exit_code=None, error=data[1:].decode(errors="replace"))
    try:
        return ExitStatus(exit_code=int(data))
    except ValueError:
        return ExitStatus(exit_code=None, error="the sandbox agent sent an unreadable exit")


async def _connect(
    directory: Path, peer: AgentPeer
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the agent's socket in `directory` (through a descriptor of the directory:
    the full path could exceed the 107 bytes a unix socket address allows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        raise AgentUnavailable(str(error)) from None
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(
                sock, f"/proc/self/fd/{fd}/{AGENT_SOCKET}"
            )
            peer.check(sock)
        except (OSError, AgentUnavailable) as error:
            sock.close()
            raise AgentUnavailable(str(error)) from None
    finally:
        os.close(fd)
    return await asyncio.open_unix_connection(sock=sock)


class AgentProcess:
    """One command in the sandbox, streamed by the agent; stdout and stderr stay in order."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        memory_mb: int,
        oom_counter: Path | None,
        oom_kills_before: int | None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._memory_mb = memory_mb
        self._oom_counter = oom_counter
        self._oom_kills_before = oom_kills_before
        self._stdin_open = True
        self._reading = asyncio.Lock()
        self._exit: ExitStatus | None = None
        self._status: ExitStatus | None = None

    @classmethod
    async def start(
        cls,
        agent_directory: Path,
        command: str,
        *,
        env: Mapping[str, str],
        cwd: str,
        agent: AgentPeer,
        memory_mb: int,
        oom_counter: Path | None,
    ) -> AgentProcess:
        """Ask the agent to run `command`; raises AgentUnavailable if it does not answer."""
        reader, writer = await _connect(agent_directory, agent)
        before = await asyncio.to_thread(oom_kills, oom_counter)
        request = [_frame(b"C", command.encode()), _frame(b"D", cwd.encode())]
        request += [_frame(b"V", f"{name}={value}".encode()) for name, value in env.items()]
        writer.write(b"".join([*request, _frame(b"G")]))
        try:
            await writer.drain()
        except ConnectionError as error:
            writer.close()
            raise AgentUnavailable(str(error)) from None
        return cls(
            reader,
            writer,
            memory_mb=memory_mb,
            oom_counter=oom_counter,
            oom_kills_before=before,
        )

    async def output(self) -> AsyncIterator[tuple[StreamName, bytes]]:
        """stdout and stderr chunks as the agent sent them, until the command's end."""
        while (chunk := await self._next_chunk()) is not None:
            yield chunk

    async def _next_chunk(self) -> tuple[StreamName, bytes] | None:
        """The next output chunk; None once the exit status is known."""
        async with self._reading:  # frames must not be read by two callers at once
            while self._exit is None:
                try:
                    header = await self._reader.readexactly(_HEADER_SIZE)
                    data = await self._reader.readexactly(int.from_bytes(header[1:], "big"))
                except (asyncio.IncompleteReadError, ConnectionError):
                    self._exit = ExitStatus(
                        exit_code=None, error="the sandbox agent stopped answering"
                    )
                    break
                kind = header[:1]
                if kind in _STREAMS:
                    return _STREAMS[kind], data
                if kind == b"X":
                    self._exit = _exit_status(data)
            return None

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin_open and data:
            await self._send(_frame(b"I", data))

    async def close_stdin(self) -> None:
        if self._stdin_open:
            self._stdin_open = False
            await self._send(_frame(b"E"))

    async def kill(self) -> None:
        """The agent kills the command's process group and everything below it."""
        await self._send(_frame(b"K"))

    async def wait(self) -> ExitStatus:
        """The exit status (call once `output()` is done or abandoned: what it left unread is
        dropped); 137 with a grown OOM count is the memory limit."""
        if self._status is not None:
            return self._status
        while await self._next_chunk() is not None:
            pass  # output nobody read any more (the caller stopped early): dropped
        self._writer.close()
        status = self._exit or ExitStatus(exit_code=None, error="no exit status")
        if status.exit_code == _SIGKILL_EXIT and await self._oom_killed():
            error = f"killed: out of memory (limit {self._memory_mb} MiB)"
            status = ExitStatus(exit_code=status.exit_code, error=error)
        self._status = status
        return status

    async def _oom_killed(self) -> bool:
        after = await asyncio.to_thread(oom_kills, self._oom_counter)
        before = self._oom_kills_before
        return after is not None and before is not None and after > before

    async def _send(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        with contextlib.suppress(ConnectionError):
            self._writer.write(data)
            await self._writer.drain()
