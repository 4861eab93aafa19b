"""Per-key request counts, kept in memory and published as `gateway.usage.reported` batches.

Every answer to a request made with a key counts, the service's or the gateway's own (a 429
of the rate limits, a 413, a 502/503/504 when the service failed): `UsageCounting` wraps the
door and counts the status that goes out for any request the door marked with `count_usage`.

Each batch goes out with a `Nats-Msg-Id` of (replica, window number), so a retried publish is
stored once; identity's inbox counts it once. A batch that cannot be published is kept and
retried with the same id. What was counted since the last report is lost if the process dies
(a few seconds of counts, by design: usage is a statistic, not a bill).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from nats.js import JetStreamContext
from skiff_contracts import Envelope
from skiff_contracts.events.gateway import KeyUsage, UsageReported
from skiff_messaging.aio import raise_if_cancelled

log = structlog.get_logger("skiff_gateway.directory.usage")

SOURCE = "skiff/gateway"
MAX_UNSENT = 720  # an hour of 5-second batches
USAGE_KEY = "usage_key"  # scope["state"]: (key id, organization id) of a request to count
_RESPONSE_STARTS = ("http.response.start", "websocket.http.response.start")
_Counter = tuple[str, str, date, str]  # key id, organization id, day, status class


class UsageCounter:
    """Counts requests per (key, day, status class); `report` publishes and resets them."""

    def __init__(self, replica: str) -> None:
        self.replica = replica
        self.counts: defaultdict[_Counter, int] = defaultdict(int)
        self.window = 0
        self.window_start = datetime.now(UTC)
        self.unsent: list[tuple[str, bytes]] = []  # (Nats-Msg-Id, envelope) not yet stored

    def add(self, key_id: str, organization_id: str, status: int) -> None:
        day = datetime.now(UTC).date()
        self.counts[(key_id, organization_id, day, f"{status // 100}xx")] += 1

    def close_window(self) -> None:
        """Turn the counts so far into a batch waiting to be published."""
        now = datetime.now(UTC)
        counts, self.counts = self.counts, defaultdict(int)
        if counts:
            self.window += 1
            usage = [
                KeyUsage(key_id=k, organization_id=o, day=d, status_class=s, requests=n)
                for (k, o, d, s), n in counts.items()
            ]
            event = UsageReported(
                replica=self.replica, window_start=self.window_start, window_end=now, usage=usage
            )
            event_id = f"usage-{self.replica}-{self.window_start.timestamp():.6f}-{self.window}"
            envelope = Envelope.wrap(event, source=SOURCE, event_id=event_id)
            self.unsent.append((event_id, envelope.encode()))
            if len(self.unsent) > MAX_UNSENT:
                log.warning("usage batch dropped: NATS unreachable for too long")
                self.unsent.pop(0)
        self.window_start = now

    async def report(self, js: JetStreamContext) -> None:
        """Publish every waiting batch, oldest first; stop at the first failure (kept for later)."""
        self.close_window()
        while self.unsent:
            event_id, data = self.unsent[0]
            await js.publish(
                UsageReported.event_type, data, headers={"Nats-Msg-Id": event_id}, timeout=5
            )
            self.unsent.pop(0)

    async def run(self, js: JetStreamContext, every: float) -> None:
        """Report every `every` seconds until cancelled (the owner sends a last report)."""
        while True:
            raise_if_cancelled()  # a cancel swallowed inside nats-py must still stop the loop
            await asyncio.sleep(every)
            try:
                await self.report(js)
            except Exception as exc:
                log.warning("usage report failed; kept for the next one", error=repr(exc))


def count_usage(scope: Scope, key_id: str, organization_id: str) -> None:
    """Mark this request as made with a key: its answer, whoever writes it, will be counted."""
    scope["state"][USAGE_KEY] = (key_id, organization_id)


class UsageCounting:
    """ASGI layer around the door: counts the status of every answer to a marked request.

    Outside the door, so the errors the gateway writes itself after the door raised (rate
    limited, service down or slow) are counted like the service's own answers.
    """

    def __init__(self, app: ASGIApp, counter: UsageCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def counted(message: Message) -> None:
            if message["type"] in _RESPONSE_STARTS:
                marked: tuple[str, str] | None = state.get(USAGE_KEY)
                if marked is not None:
                    status: Any = message.get("status", 0)
                    self.counter.add(*marked, int(status))
            await send(message)

        await self.app(scope, receive, counted)
