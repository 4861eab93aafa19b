"""Consume events exactly-once in effect: inbox + handler in one transaction, then ack."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind, Status, StatusCode
from skiff_contracts import Envelope, EventPayload, decode_envelope
from sqlalchemy import Integer, LargeBinary, Text, column, table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_messaging.aio import backoff_delay, raise_if_cancelled
from skiff_messaging.bare import BareHandler, apply_bare, engine_of
from skiff_messaging.errors import PermanentError
from skiff_messaging.feed import ConsumerGone, PullFeed
from skiff_messaging.inbox import claim
from skiff_messaging.streams import ensure_consumer
from skiff_messaging.tables import DEAD_LETTERS
from skiff_messaging.tracing import context_of, trace_id_hex, tracer

log = structlog.get_logger("skiff_messaging.consumer")

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]

_dead_letters = table(
    DEAD_LETTERS,
    column("consumer", Text),
    column("event_id", Text),
    column("subject", Text),
    column("payload", LargeBinary),
    column("reason", Text),
    column("deliveries", Integer),
)
_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError)


class EventConsumer:
    """One durable pull consumer of a stream, dispatching each event type to its handler."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        session_factory: async_sessionmaker[AsyncSession],
        stream: str,
        durable: str,
        handlers: Mapping[str, tuple[type[EventPayload], Handler]],
        batch: int = 64,
        max_deliver: int = 10,
        backoff: Sequence[float] = (0.5, 1, 2, 5, 10, 30),
        ack_wait: float = 30.0,
        subjects: Sequence[str] | None = None,
    ) -> None:
        """`subjects` filters the durable consumer; by default the handled event types."""
        if not handlers:
            raise ValueError(f"consumer {durable!r} has no handlers")
        self.js = js
        self.session_factory = session_factory
        self.stream = stream
        self.durable = durable
        self.handlers = dict(handlers)
        self.batch = batch
        self.max_deliver = max_deliver
        self.backoff = tuple(backoff) or (1.0,)
        self.ack_wait = ack_wait
        self.subjects = sorted(subjects or self.handlers)
        self._engine = engine_of(session_factory)
        self.counts = {"handled": 0, "duplicate": 0, "retried": 0, "dead_lettered": 0}

    async def run(self) -> None:
        """Ensure the durable consumer, then handle messages until cancelled."""
        attempt = 0
        while True:
            raise_if_cancelled()
            try:
                await ensure_consumer(
                    self.js,
                    stream=self.stream,
                    durable=self.durable,
                    subjects=self.subjects,
                    ack_wait=self.ack_wait,
                    # One more than ours: a crash during the last attempt still ends in a
                    # dead letter instead of the server silently giving up.
                    max_deliver=self.max_deliver + 1,
                )
                attempt = 0
                feed = PullFeed(
                    self.js,
                    stream=self.stream,
                    consumer=self.durable,
                    batch=self.batch,
                    on_message=self.handle,
                )
                await feed.run()
            except ConsumerGone:
                log.warning("consumer vanished; recreating it", durable=self.durable)
            except Exception as exc:
                attempt += 1
                log.warning("consumer cannot start", durable=self.durable, error=repr(exc))
            await asyncio.sleep(backoff_delay(attempt))

    async def handle(self, msg: Msg) -> None:
        """Apply one message at most once, then ack; nak, or dead-letter and term, on failure."""
        deliveries = msg.metadata.num_delivered or 1
        try:
            envelope = decode_envelope(msg.data)
        except _UNDECODABLE as exc:
            await self._dead_letter(msg, None, f"undecodable envelope: {exc}", deliveries)
            return
        entry = self.handlers.get(envelope.type)
        if entry is None:
            log.debug("no handler; acked", event_type=envelope.type, event_id=envelope.id)
            await msg.ack()
            return
        payload_type, handler = entry
        span = tracer.start_as_current_span(
            f"{envelope.type} process",
            context=context_of(msg.headers, envelope.traceparent),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.message.id": envelope.id,
                "messaging.consumer.group.name": self.durable,
            },
        )
        with (
            span as current,
            structlog.contextvars.bound_contextvars(
                event_id=envelope.id,
                event_type=envelope.type,
                org_id=envelope.organization_id,
                trace_id=trace_id_hex(),
            ),
        ):
            try:
                payload = self._payload(envelope, payload_type)
                applied = await self.apply(envelope, payload, handler)
            except (PermanentError, *_UNDECODABLE) as exc:
                current.set_status(Status(StatusCode.ERROR, str(exc)))
                reason = f"{type(exc).__name__}: {exc}"
                await self._dead_letter(msg, envelope.id, reason, deliveries)
                return
            except Exception as exc:
                current.set_status(Status(StatusCode.ERROR, repr(exc)))
                await self._retry(msg, envelope, exc, deliveries)
                return
            self.counts["handled" if applied else "duplicate"] += 1
            await self._ack(msg)

    async def _ack(self, msg: Msg) -> None:
        await msg.ack()

    @staticmethod
    def _payload(envelope: Envelope, payload_type: type[EventPayload]) -> Any:
        if envelope.dataversion != payload_type.event_version:
            raise PermanentError(
                f"{envelope.type} v{envelope.dataversion} is not handled "
                f"(this consumer reads v{payload_type.event_version})"
            )
        return envelope.payload(payload_type)

    async def apply(self, envelope: Envelope, payload: Any, handler: Handler) -> bool:
        """The inbox row and the handler's writes commit together; False for a duplicate.

        What `handle` does once the message is decoded (benchmarks call it directly).
        A `BareHandler` is tried on a bare connection first (skiff_messaging.bare)."""
        if isinstance(handler, BareHandler) and self._engine is not None:
            applied = await apply_bare(self._engine, self.durable, envelope, payload, handler)
            if applied is not None:
                return applied
        async with self.session_factory() as session, session.begin():
            if not await claim(session, self.durable, envelope.id):
                return False
            await handler(session, envelope, payload)
        return True

    async def _retry(self, msg: Msg, envelope: Envelope, exc: Exception, deliveries: int) -> None:
        if deliveries >= self.max_deliver:
            reason = f"failed {deliveries} deliveries, last: {type(exc).__name__}: {exc}"
            await self._dead_letter(msg, envelope.id, reason, deliveries)
            return
        delay = self.backoff[min(deliveries, len(self.backoff)) - 1]
        self.counts["retried"] += 1
        log.warning("event failed; retrying", error=repr(exc), deliveries=deliveries, delay=delay)
        await msg.nak(delay=delay)

    async def _dead_letter(
        self, msg: Msg, event_id: str | None, reason: str, deliveries: int
    ) -> None:
        """Keep the message and why it failed, then stop its redelivery."""
        try:
            async with self.session_factory() as session, session.begin():
                await session.execute(
                    _dead_letters.insert().values(
                        consumer=self.durable,
                        event_id=event_id,
                        subject=msg.subject,
                        payload=msg.data,
                        reason=reason,
                        deliveries=deliveries,
                    )
                )
        except Exception as exc:
            # Not recorded, so not terminated: it comes back after a while.
            log.error("dead letter not recorded", reason=reason, error=repr(exc))
            await msg.nak(delay=self.backoff[-1])
            return
        self.counts["dead_lettered"] += 1
        log.error(
            "event dead-lettered",
            consumer=self.durable,
            event_id=event_id,
            subject=msg.subject,
            reason=reason,
            deliveries=deliveries,
        )
        await msg.term()
