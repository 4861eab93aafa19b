"""Identity's events → the directory bucket: one durable pull consumer shared by the replicas.

The gateway has no database, so no inbox: each write is a compare-and-set that keeps the
higher-ranked record, which makes a redelivered, repeated or late event harmless. A message
is acked only after its record is stored.
"""

from __future__ import annotations

import asyncio

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from skiff_contracts import decode_envelope
from skiff_messaging.aio import backoff_delay, raise_if_cancelled
from skiff_messaging.feed import ConsumerGone, PullFeed
from skiff_messaging.streams import ensure_consumer

from skiff_gateway.directory.records import HANDLED, Rank, rank_of, record_of

log = structlog.get_logger("skiff_gateway.directory.projector")

DURABLE = "gateway--identity"
SUBJECTS = ("identity.apikey.>", *sorted(t for t in HANDLED if not t.startswith("identity.apikey")))


class Projector:
    """Keeps the bucket at the newest state of every key, membership and user's sessions."""

    def __init__(self, js: JetStreamContext, kv: KeyValue, *, stream: str = "IDENTITY") -> None:
        self.js = js
        self.kv = kv
        self.stream = stream
        self.counts = {"stored": 0, "stale": 0, "ignored": 0, "retried": 0}

    async def run(self) -> None:
        """Ensure the durable consumer and project until cancelled (restarting on failure)."""
        attempt = 0
        while True:
            raise_if_cancelled()
            try:
                await ensure_consumer(
                    self.js, stream=self.stream, durable=DURABLE, subjects=SUBJECTS, ack_wait=10
                )
                attempt = 0
                feed = PullFeed(
                    self.js, stream=self.stream, consumer=DURABLE, batch=64, on_message=self.handle
                )
                await feed.run()
            except ConsumerGone:
                log.warning("projector consumer vanished; recreating it")
            except Exception as exc:
                attempt += 1
                log.warning("projector cannot start", error=repr(exc))
            await asyncio.sleep(backoff_delay(attempt))

    async def handle(self, msg: Msg) -> None:
        """Store the record an event leads to, then ack; nak (retry later) if NATS failed."""
        try:
            envelope = decode_envelope(msg.data)
            payload_type = HANDLED.get(envelope.type)
            payload = envelope.payload(payload_type) if payload_type else None
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("undecodable identity event dropped", subject=msg.subject, error=str(exc))
            await msg.term()
            return
        record = record_of(payload, seq=msg.metadata.sequence.stream) if payload else None
        if record is None:
            self.counts["ignored"] += 1
            await msg.ack()
            return
        try:
            stored = await self.store(*record)
        except Exception as exc:
            self.counts["retried"] += 1
            log.warning("directory write failed; retrying", key=record[0], error=repr(exc))
            await msg.nak(delay=1.0)
            return
        self.counts["stored" if stored else "stale"] += 1
        await msg.ack()

    async def store(self, kv_key: str, value: bytes, rank: Rank) -> bool:
        """Write `value` unless the bucket holds a record of equal or higher rank."""
        while True:
            try:
                current = await self.kv.get(kv_key)
            except KeyNotFoundError:
                current = None
            try:
                if current is None or not current.value:
                    await self.kv.create(kv_key, value)
                    return True
                if rank_of(kv_key, current.value) >= rank:
                    return False
                await self.kv.update(kv_key, value, last=current.revision)
                return True
            except KeyWrongLastSequenceError:
                continue  # another replica wrote it first: compare again
