"""While a stream or WebSocket of a session is open, its runner hears about it (not idle)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from skiff_kit.errors import SkiffError
from skiff_messaging.aio import raise_if_cancelled

from skiff_orchestrator.runner_client import RunnerClient

log = structlog.get_logger("skiff_orchestrator.live")

RunnerOf = Callable[[], Awaitable[str | None]]


@contextlib.asynccontextmanager
async def touching(
    runners: RunnerClient, session_id: str, runner_of: RunnerOf, *, every: float
) -> AsyncIterator[None]:
    """Send `touch` to the session's runner now and every `every` seconds inside the block."""

    async def loop() -> None:
        while True:
            raise_if_cancelled()
            try:
                runner_id = await runner_of()
                if runner_id is not None:
                    await runners.session_command(runner_id, "touch", session_id)
            except SkiffError as exc:
                log.debug("touch not answered", session_id=session_id, error=exc.message)
            except Exception as exc:
                log.warning("touch failed", session_id=session_id, error=repr(exc))
            await asyncio.sleep(every)

    task = asyncio.create_task(loop(), name=f"touch-{session_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
