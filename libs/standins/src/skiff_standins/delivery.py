"""Sending webhooks as a provider does: signed, retried with back-off until a 2xx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

log = logging.getLogger("skiff_standins.delivery")

# (headers, body) → the receiver's status code (raises on a connection failure).
Sender = Callable[[dict[str, str], bytes], Awaitable[int]]


class HttpSender:
    """POSTs to a URL, as the providers do (a connection failure raises)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout)

    async def __call__(self, headers: dict[str, str], body: bytes) -> int:
        response = await self.client.post(
            self.url, content=body, headers={"content-type": "application/json", **headers}
        )
        return response.status_code


@dataclass
class Attempt:
    event_id: str
    status: int | None  # None: no answer (connection refused, reset, timeout)


@dataclass
class Delivery:
    """Delivers each event in its own task; `retry_delays` between attempts, then gives up."""

    sender: Sender | None
    retry_delays: Sequence[float] = (0.5, 1, 2, 5, 10, 30, 60)
    attempts: list[Attempt] = field(default_factory=list)
    delivered: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, event_id: str, sign: Callable[[], tuple[dict[str, str], bytes]]) -> None:
        """Deliver in the background; `sign` is called again for each attempt (new timestamp)."""
        task = asyncio.get_running_loop().create_task(self._deliver(event_id, sign))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, event_id: str, sign: Callable[[], tuple[dict[str, str], bytes]]
    ) -> None:
        for delay in (0.0, *self.retry_delays):
            await asyncio.sleep(delay)
            if self.sender is None:
                continue
            headers, body = sign()
            try:
                status: int | None = await self.sender(headers, body)
            except (httpx.HTTPError, OSError) as error:
                log.info("webhook %s not delivered: %r", event_id, error)
                status = None
            self.attempts.append(Attempt(event_id, status))
            if status is not None and 200 <= status < 300:
                self.delivered.add(event_id)
                return
        self.failed.add(event_id)

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every delivery in flight has ended (delivered or given up).

        Polls rather than awaiting the tasks: they may run on another thread's event loop
        (the stand-in's server) as well as on the caller's.
        """
        async with asyncio.timeout(timeout):
            while self._tasks:  # noqa: ASYNC110 - tasks of other loops too
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Cancel the deliveries of the running loop (at shutdown)."""
        loop = asyncio.get_running_loop()
        mine = [task for task in list(self._tasks) if task.get_loop() is loop]
        for task in mine:
            task.cancel()
        await asyncio.gather(*mine, return_exceptions=True)
