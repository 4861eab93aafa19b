"""One running task: pumps its output to LIVE, enforces its timeout, and reports how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from skiff_contracts.live import LiveEvent
from skiff_contracts.rpc.sandbox import ExecRequest

from skiff_sandbox_runner.backends.base import ExitStatus, Process, StreamName
from skiff_sandbox_runner.live import LivePublisher
from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.tasks.transcript import ChunkDecoder, Transcript

log = structlog.get_logger("skiff_sandbox_runner.tasks")

# After a kill, how long the output may take to close before the runner stops waiting.
KILL_GRACE_SECONDS = 5.0
# Output is cut into live chunks of at most this many bytes: even when every byte is a control
# character (six bytes in JSON), a chunk stays far below NATS's max_payload.
LIVE_CHUNK_BYTES = 16 * 1024


@dataclass(frozen=True)
class Outcome:
    """How a task ended, as `sandbox.task.completed` and the final live status tell it."""

    status: str  # succeeded | failed | cancelled | timed_out
    exit_code: int | None
    error: str | None
    stdout: str
    stderr: str
    truncated: bool
    duration_ms: int
    finished_at: datetime


class TaskRun:
    """A task's process from its first output to its outcome (`finished` is then called)."""

    def __init__(
        self,
        request: ExecRequest,
        *,
        process: Process | None,
        start_error: str | None,
        started_at: datetime,
        live: LivePublisher,
        output_limit: int,
        finished: Callable[[TaskRun, Outcome], Awaitable[None]],
    ) -> None:
        self.request = request
        self.process = process
        self.start_error = start_error
        self.started_at = started_at
        self.live = live
        self.transcript = Transcript(output_limit)
        self.finished = finished
        self.cancel_error: str | None = None
        self.cancelled = False
        self.cancel_failed = False
        self.timed_out = False
        self.seq = 0
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._clock = time.monotonic()

    @property
    def task_id(self) -> str:
        return self.request.task_id

    @property
    def session_id(self) -> str:
        return self.request.session_id

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name=f"task-{self.task_id}")
        return self._task

    async def cancel(self, error: str | None = None, *, failed: bool = False) -> None:
        """Kill the process: the task ends `cancelled` (`failed` if asked), `error` says why."""
        if self.done.is_set():
            return
        self.cancelled = True
        self.cancel_failed = self.cancel_failed or failed
        self.cancel_error = self.cancel_error or error
        if self.process is not None:
            await self.process.kill()

    async def write_stdin(self, data: bytes, *, eof: bool) -> None:
        if self.process is None:
            return
        if data:
            await self.process.write_stdin(data)
        if eof:
            await self.process.close_stdin()

    async def wait(self, within: float) -> bool:
        """Wait up to `within` seconds for the outcome; True if the task has ended."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), within)
        return self.done.is_set()

    async def _run(self) -> None:
        try:
            await self._status("running")
            exit_status = await self._execute()
            outcome = self._outcome(exit_status)
        except Exception as exc:
            log.exception("task crashed", task_id=self.task_id)
            outcome = self._outcome(ExitStatus(exit_code=None, error=f"runner error: {exc!r}"))
        try:
            await self.finished(self, outcome)
        except Exception:
            # Left `running` in the table: the next start fails it as "runner restarted".
            log.exception("task outcome not recorded", task_id=self.task_id)
        finally:
            self.done.set()

    async def _execute(self) -> ExitStatus:
        process = self.process
        if process is None:
            return ExitStatus(exit_code=None, error=self.start_error)
        feeder = asyncio.create_task(self._feed_stdin(process))
        pump = asyncio.create_task(self._pump(process))
        done, _ = await asyncio.wait({pump}, timeout=self.request.timeout_seconds)
        if not done:
            self.timed_out = True
            await process.kill()
        try:
            await asyncio.wait_for(asyncio.shield(pump), KILL_GRACE_SECONDS)
        except TimeoutError:
            log.warning("output did not close after kill", task_id=self.task_id)
            pump.cancel()
        feeder.cancel()
        try:
            return await asyncio.wait_for(process.wait(), KILL_GRACE_SECONDS)
        except TimeoutError:
            return ExitStatus(exit_code=None, error="the process did not exit after a kill")

    async def _feed_stdin(self, process: Process) -> None:
        """The request's stdin is written then closed; without one, stdin stays open."""
        if self.request.stdin is None:
            return
        with contextlib.suppress(Exception):
            await process.write_stdin(self.request.stdin)
            await process.close_stdin()

    async def _pump(self, process: Process) -> None:
        decoder = ChunkDecoder()
        async for stream, data in process.output():
            self.transcript.add(stream, data)
            for start in range(0, len(data), LIVE_CHUNK_BYTES):
                piece = data[start : start + LIVE_CHUNK_BYTES]
                await self._output(stream, decoder.decode(stream, piece))
        streams: tuple[StreamName, ...] = ("stdout", "stderr")
        for stream in streams:
            await self._output(stream, decoder.flush(stream))

    async def _output(self, stream: StreamName, text: str) -> None:
        if not text:
            return
        self.seq += 1
        event = LiveEvent(
            kind="output",
            session_id=self.session_id,
            task_id=self.task_id,
            stream=stream,
            data=text,
            seq=self.seq,
            at=utcnow(),
        )
        await self.live.publish(event)

    async def _status(self, status: str) -> None:
        event = LiveEvent(
            kind="status",
            session_id=self.session_id,
            task_id=self.task_id,
            status=status,
            at=utcnow(),
        )
        await self.live.publish(event)

    def _outcome(self, exit_status: ExitStatus) -> Outcome:
        error = exit_status.error
        if self.cancelled:
            status = "failed" if self.cancel_failed else "cancelled"
            error = self.cancel_error
        elif self.timed_out:
            status = "timed_out"
            error = f"timed out after {self.request.timeout_seconds} s"
        elif exit_status.exit_code == 0 and exit_status.error is None:
            status = "succeeded"
        else:
            status = "failed"
        return Outcome(
            status=status,
            exit_code=exit_status.exit_code,
            error=error,
            stdout=self.transcript.text("stdout"),
            stderr=self.transcript.text("stderr"),
            truncated=self.transcript.truncated,
            duration_ms=int((time.monotonic() - self._clock) * 1000),
            finished_at=utcnow(),
        )
