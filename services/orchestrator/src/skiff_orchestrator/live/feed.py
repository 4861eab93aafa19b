"""Reading LIVE in order from a given sequence, with an ephemeral ordered consumer.

The sequence of each event is its LIVE stream sequence: it becomes the SSE `id:`, so a client
that reconnects with `Last-Event-ID: N` starts at N + 1, without gap or repeat.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from skiff_contracts.live import LIVE_STREAM, LiveEvent
from skiff_messaging.provision import provisioned
from skiff_messaging.streams import ensure_live_stream

log = structlog.get_logger("skiff_orchestrator.live")

_decode = msgspec.json.Decoder(LiveEvent).decode


@dataclass(frozen=True)
class Sequenced:
    """One live event and its LIVE stream sequence."""

    seq: int
    event: LiveEvent


class LiveFeed:
    """The events of one subject filter, from `after` + 1 (or from the start)."""

    def __init__(self, subscription: JetStreamContext.PushSubscription) -> None:
        self._subscription = subscription

    async def next(self, timeout: float) -> Sequenced | None:  # noqa: ASYNC109 - a poll
        """The next event, or None if none came within `timeout` seconds."""
        while True:
            try:
                msg = await self._subscription.next_msg(timeout=timeout)
            except nats.errors.TimeoutError:
                return None
            try:
                event = _decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("undecodable live event skipped", subject=msg.subject)
                continue
            return Sequenced(seq=msg.metadata.sequence.stream, event=event)


@contextlib.asynccontextmanager
async def live_feed(nc: NATS, subject: str, *, after: int | None) -> AsyncIterator[LiveFeed]:
    """Follow `subject` on LIVE while the block runs (subscribed before it starts).

    LIVE lives in memory: after a NATS restart it is made again here if the reconnection's
    provisioning has not done so yet.
    """
    js = nc.jetstream()
    if after is not None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1
        )
    else:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    config.inactive_threshold = 30.0
    subscription = await provisioned(
        lambda: js.subscribe(
            subject, stream=LIVE_STREAM, ordered_consumer=True, config=config, idle_heartbeat=5.0
        ),
        lambda: ensure_live_stream(js),
    )
    try:
        yield LiveFeed(subscription)
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def last_of(nc: NATS, subject: str) -> Sequenced | None:
    """The last event LIVE still holds on `subject`, or None."""
    try:
        msg = await nc.jetstream().get_last_msg(LIVE_STREAM, subject)
    except NotFoundError:
        return None
    try:
        return Sequenced(seq=msg.seq or 0, event=_decode(msg.data or b""))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
