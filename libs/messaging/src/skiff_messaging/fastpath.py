"""The relay's fast path: publish an event straight from the NOTIFY of its commit."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
import structlog

from skiff_messaging.aio import raise_if_cancelled
from skiff_messaging.outbox import decode_note
from skiff_messaging.publisher import AckedPublisher

log = structlog.get_logger("skiff_messaging.relay")

_MAX_QUEUED = 10_000
_DELETE_BATCH = 500
_DELETE_LINGER_SECONDS = 0.02


class NotePublisher:
    """Publishes announced events in order; acked ones are handed to `forget` in batches.

    Publishing needs no database round trip: the notification carries the envelope. A
    publish that fails or is not acked in time calls `on_failure` (the relay then drains:
    the row is still in the outbox and goes out again under the same Nats-Msg-Id).
    """

    def __init__(
        self,
        publisher: AckedPublisher,
        *,
        publish_timeout: float,
        forget: Callable[[list[str]], Awaitable[None]],
        on_failure: Callable[[], None],
    ) -> None:
        self._publisher = publisher
        self._publish_timeout = publish_timeout
        self._forget = forget
        self._on_failure = on_failure
        self._queue: deque[tuple[str, str, dict[str, str], bytes]] = deque()
        self._queued = asyncio.Event()
        self._acked: list[str] = []
        self._acked_ready = asyncio.Event()

    def offer(self, note_text: str) -> bool:
        """Queue an announced event; False when it must be drained from the table instead."""
        note = decode_note(note_text)
        if note.payload is None or note.subject is None or len(self._queue) >= _MAX_QUEUED:
            return False
        headers = {**(note.headers or {}), "Nats-Msg-Id": note.event_id}
        self._queue.append((note.event_id, note.subject, headers, note.payload))
        self._queued.set()
        return True

    async def run(self) -> None:
        """Publish and forget until cancelled."""
        await asyncio.gather(self._publish(), self._forget_acked())

    async def _publish(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            raise_if_cancelled()
            await self._queued.wait()
            self._queued.clear()
            while self._queue:
                event_id, subject, headers, payload = self._queue.popleft()
                try:
                    future = await self._publisher.publish(subject, payload, headers)
                except Exception as exc:
                    log.warning("outbox publish failed", event_id=event_id, error=repr(exc))
                    self._on_failure()
                    continue
                timer = loop.call_later(self._publish_timeout, future.cancel)
                future.add_done_callback(partial(self._on_ack, event_id=event_id, timer=timer))

    def _on_ack(self, future: asyncio.Future[Any], event_id: str, timer: asyncio.Handle) -> None:
        timer.cancel()
        if future.cancelled() or future.exception() is not None:
            log.warning("outbox publish not acknowledged", event_id=event_id)
            self._on_failure()
            return
        self._acked.append(event_id)
        self._acked_ready.set()

    async def _forget_acked(self) -> None:
        while True:
            raise_if_cancelled()
            await self._acked_ready.wait()
            if len(self._acked) < _DELETE_BATCH:
                # Linger: one DELETE for many events, and not at the moment they are consumed.
                await asyncio.sleep(_DELETE_LINGER_SECONDS)
            self._acked_ready.clear()
            event_ids, self._acked = self._acked, []
            try:
                await self._forget(event_ids)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # Left in the outbox, they are published again and de-duplicated by the stream.
                log.warning("outbox rows not deleted", count=len(event_ids), error=str(exc))
