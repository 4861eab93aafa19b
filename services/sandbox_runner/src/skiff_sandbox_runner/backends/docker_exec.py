"""A command running in a container through the Docker exec API, with stdin attached."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiodocker.exceptions import DockerError
from aiodocker.execs import Exec
from aiodocker.stream import Stream
from skiff_kit.logging import get_logger

from skiff_sandbox_runner.backends.base import ExitStatus, StreamName
from skiff_sandbox_runner.backends.host_processes import kill_exec_tree, oom_kills

_log = get_logger("skiff.sandbox_runner.docker")
_SIGKILL_EXIT = 137


class DockerProcess:
    """One `docker exec` of `/bin/sh -c command`; stdout and stderr are demultiplexed."""

    def __init__(
        self,
        execution: Exec,
        stream: Stream,
        *,
        container_id: str,
        memory_mb: int,
        oom_counter: Path | None,
        oom_kills_before: int | None,
    ) -> None:
        self._exec = execution
        self._stream = stream
        self._container_id = container_id
        self._memory_mb = memory_mb
        self._oom_counter = oom_counter
        self._oom_kills_before = oom_kills_before
        self._stdin_open = True
        self._status: ExitStatus | None = None

    async def output(self) -> AsyncIterator[tuple[StreamName, bytes]]:
        """stdout and stderr chunks in the order the engine sent them, until the exec ends."""
        while True:
            try:
                message = await self._stream.read_out()
            except (DockerError, OSError, RuntimeError) as error:
                _log.warning("exec output stream broke", error=str(error))
                return
            if message is None:
                return
            if message.stream in (1, 2) and message.data:
                yield ("stdout" if message.stream == 1 else "stderr"), message.data

    async def write_stdin(self, data: bytes) -> None:
        """Write to stdin; a no-op once it is closed or the exec is gone."""
        if not self._stdin_open:
            return
        with contextlib.suppress(OSError, RuntimeError, AssertionError):
            await self._stream.write_in(data)

    async def close_stdin(self) -> None:
        """Half-close the attached connection: the command reads EOF, its output keeps flowing."""
        if not self._stdin_open:
            return
        self._stdin_open = False
        response = self._stream._resp
        connection = response.connection if response is not None else None
        transport = connection.transport if connection is not None else None
        if transport is not None and transport.can_write_eof():
            with contextlib.suppress(OSError):
                transport.write_eof()

    async def wait(self) -> ExitStatus:
        """The exit code; 137 while the OOM-kill counter grew means the memory limit killed it."""
        if self._status is not None:
            return self._status
        info = await self._inspect_until(lambda i: not i["Running"])
        await self._stream.close()
        self._stdin_open = False
        code = info.get("ExitCode") if info else None
        error = None
        if code == _SIGKILL_EXIT and await self._oom_killed():
            error = f"killed: out of memory (limit {self._memory_mb} MiB)"
        self._status = ExitStatus(exit_code=code, error=error)
        return self._status

    async def _oom_killed(self) -> bool:
        after = await asyncio.to_thread(oom_kills, self._oom_counter)
        before = self._oom_kills_before
        return after is not None and before is not None and after > before

    async def kill(self) -> None:
        """SIGKILL the command's session and process group: it and every child it started."""
        info = await self._inspect_until(lambda i: bool(i["Pid"]) or not i["Running"])
        pid = info.get("Pid") if info else None
        if not pid:
            return
        killed = await asyncio.to_thread(kill_exec_tree, pid, self._container_id)
        if killed == 0 and info and info["Running"]:
            _log.error(
                "could not kill an exec: its host pid is not visible (the runner must share "
                "the host's pid namespace with dockerd)",
                container_id=self._container_id,
                pid=pid,
            )

    async def _inspect_until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """Inspect the exec until `done(info)`, backing off; None if the exec is gone."""
        delay = 0.002  # an exec usually reports its end within a few ms of its output's EOF
        while True:
            try:
                info = await self._exec.inspect()
            except DockerError:
                return None
            if done(info):
                return info
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
