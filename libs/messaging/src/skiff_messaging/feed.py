"""A pull consumer fed continuously: pull requests stay outstanding, so idle latency is one hop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from skiff_messaging.aio import first_of, raise_if_cancelled

log = structlog.get_logger("skiff_messaging.feed")


class ConsumerGone(Exception):
    """The durable consumer was deleted (or never existed) while being pulled from."""


class PullFeed:
    """Keeps up to `batch` messages requested from a durable consumer and hands each over.

    Like the `Consume` of the Go client: a new pull request tops the credit up whenever half
    of it is used, each request lingers `expires` seconds with idle heartbeats, and a silent
    feed (lost requests after a reconnect or a leader change) is re-pulled.
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        consumer: str,
        batch: int,
        on_message: Callable[[Msg], Awaitable[None]],
        expires: float = 30.0,
        heartbeat: float = 5.0,
    ) -> None:
        self._js = js
        # nats-py has no continuous pull API; its connection and API prefix are needed here.
        self._nc = js._nc
        self._next = f"{js._prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._consumer = consumer
        self._batch = max(1, batch)
        self._on_message = on_message
        self._expires_ns = int(expires * 1e9)
        self._heartbeat = heartbeat
        self._inbox = ""
        self._pending = 0
        self._last_seen = time.monotonic()
        self._reconnects = 0
        self._gone = asyncio.Event()

    async def run(self) -> None:
        """Pull and hand over until cancelled; raises ConsumerGone if the consumer vanishes."""
        self._inbox = self._nc.new_inbox()
        subscription = await self._nc.subscribe(self._inbox, cb=self._receive)
        self._reconnects = self._nc.stats["reconnects"]
        try:
            while not self._gone.is_set():
                raise_if_cancelled()
                reconnects = self._nc.stats["reconnects"]
                silent = time.monotonic() - self._last_seen > 3 * self._heartbeat
                if reconnects != self._reconnects or silent:
                    # Outstanding requests died with the old connection (or server leader).
                    self._reconnects, self._pending = reconnects, 0
                    self._last_seen = time.monotonic()
                await self._top_up()
                await first_of(self._gone, within=min(1.0, self._heartbeat))
            raise ConsumerGone(self._consumer)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _top_up(self) -> None:
        if self._pending > self._batch // 2 or not self._nc.is_connected:
            return
        wanted = self._batch - self._pending
        request = {
            "batch": wanted,
            "expires": self._expires_ns,
            "idle_heartbeat": int(self._heartbeat * 1e9),
        }
        await self._nc.publish(self._next, json.dumps(request).encode(), reply=self._inbox)
        self._pending += wanted

    async def _receive(self, msg: Msg) -> None:
        self._last_seen = time.monotonic()
        headers = msg.headers
        status = headers.get("Status") if headers and not msg.data else None
        if status is None:
            self._pending = max(0, self._pending - 1)  # a reset may have counted it already
            try:
                await self._on_message(msg)
            except Exception:
                log.exception("message handling crashed", consumer=self._consumer)
        elif status == "100":
            return  # idle heartbeat
        elif not self._account(status, headers or {}):
            return  # refused: the next tick asks again, rather than a tight loop
        with contextlib.suppress(Exception):
            await self._top_up()

    def _account(self, status: str, headers: dict[str, str]) -> bool:
        """Update the outstanding credit from a status; whether to ask again right away."""
        description = headers.get("Description", "")
        left = headers.get("Nats-Pending-Messages")
        if left is not None and left.isdigit():
            self._pending = max(0, self._pending - int(left))
        else:
            self._pending = 0
        if status == "503" or "Consumer Deleted" in description:
            log.warning("consumer is gone", consumer=self._consumer, status=status)
            self._gone.set()
            return False
        if status == "409" and "Leadership Change" not in description:
            log.warning("pull request refused", consumer=self._consumer, reason=description)
            return False
        return True
