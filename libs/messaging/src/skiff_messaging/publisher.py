"""Pipelined JetStream publishing: many publishes in flight, each ack resolving a future."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from skiff_messaging.errors import PublishFailed

# JetStream's answer when a message is over the stream's own size limit: it never will fit.
_TOO_LARGE_FOR_STREAM = 10054


class PublishRefused(PublishFailed):
    """The stream answered with an error that repeating the publish cannot change."""


class AckedPublisher:
    """What `js.publish_async` does, with less work per message (this is the relay's hot loop).

    Each publish carries a reply subject `<inbox>.<n>`; the stream's answer resolves the
    future of `n`. A successful ack is recognised without parsing it; only errors are
    decoded. `max_pending` publishes may wait for their ack at once (back-pressure).
    """

    def __init__(self, nc: NATS, *, max_pending: int = 8000) -> None:
        self._nc = nc
        self._slots = asyncio.Semaphore(max_pending)
        self._prefix = ""
        self._count = 0
        self._futures: dict[str, asyncio.Future[None]] = {}

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[None]:
        """Send one message; the future completes when the stream stored it (or refused)."""
        if not self._prefix:
            prefix = f"{self._nc.new_inbox()}."
            await self._nc.subscribe(f"{prefix}*", cb=self._on_reply)
            self._prefix = prefix
        await self._slots.acquire()
        self._count += 1
        token = str(self._count)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda _done: self._release(token))
        self._futures[token] = future
        try:
            await self._nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
        except BaseException:
            future.cancel()
            raise
        return future

    def _release(self, token: str) -> None:
        self._futures.pop(token, None)
        self._slots.release()

    async def _on_reply(self, msg: Msg) -> None:
        future = self._futures.get(msg.subject[len(self._prefix) :])
        if future is None or future.done():
            return
        data = msg.data
        if not data:  # a status message: 503 when no stream takes the subject
            status = (msg.headers or {}).get("Status", "?")
            future.set_exception(PublishFailed(f"no stream answered (status {status})"))
        elif b'"error"' in data:
            error: Any = json.loads(data).get("error", {})
            permanent = isinstance(error, dict) and error.get("err_code") == _TOO_LARGE_FOR_STREAM
            kind = PublishRefused if permanent else PublishFailed
            future.set_exception(kind(f"stream refused the message: {error}"))
        else:
            future.set_result(None)
