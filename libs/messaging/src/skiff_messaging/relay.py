"""Publish the outbox to JetStream: at once from NOTIFY, with a drain on start and as a net."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import structlog
from asyncpg.transaction import Transaction
from nats.js import JetStreamContext
from opentelemetry import metrics

from skiff_messaging.aio import backoff_delay, first_of, raise_if_cancelled
from skiff_messaging.errors import PublishFailed
from skiff_messaging.fastpath import NotePublisher
from skiff_messaging.limits import MessageTooLarge
from skiff_messaging.publisher import AckedPublisher, PublishRefused

log = structlog.get_logger("skiff_messaging.relay")
_dead_rows = metrics.get_meter("skiff.messaging").create_counter(
    "skiff.outbox.dead_letters", description="Outbox rows that can never be published"
)

# Rows are deleted in the transaction that claimed them, which commits only after every ack.
_CLAIM = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
) RETURNING id, subject, payload, headers, seq
"""
# Rows published from a notification; a row another replica holds is left to it.
_FORGET = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE id = ANY($1::text[]) FOR UPDATE SKIP LOCKED
)
"""
_TRY_LEAD = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
# A row that can never be published leaves the outbox for `dead_letters`, in the transaction
# that claimed it, so the rows behind it go on.
_BURY = """
INSERT INTO dead_letters (consumer, event_id, subject, payload, reason, deliveries)
VALUES ('outbox-relay', $1, $2, $3, $4, 0)
"""


@dataclass
class _Batch:
    """Claimed rows, the open transaction deleting them, and their pending acks."""

    rows: list[asyncpg.Record]
    transaction: Transaction
    connection: asyncpg.Connection
    futures: list[tuple[asyncpg.Record, asyncio.Future[Any]]]
    dead: list[tuple[asyncpg.Record, str]]


class OutboxRelay:
    """Moves committed outbox rows of one schema to JetStream, at least once, de-duplicated.

    One replica at a time leads (a session advisory lock on its LISTEN connection): it
    publishes each event straight from the NOTIFY that announced its commit and deletes the
    row after the ack. Every replica drains what is left (on start, every
    `fallback_poll_seconds`, after failures) with `FOR UPDATE SKIP LOCKED`, so they share a
    backlog and a follower takes over within one poll when the leader dies. A publish repeated
    after a crash carries the same `Nats-Msg-Id`, so the stream stores it once.
    """

    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        channel: str,
        js: JetStreamContext,
        batch_size: int = 500,
        fallback_poll_seconds: float = 5.0,
        publish_timeout: float = 10.0,
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.channel = channel
        self.js = js
        self.batch_size = batch_size
        self.fallback_poll_seconds = fallback_poll_seconds
        self.publish_timeout = publish_timeout
        self.leading = False
        self._lanes: list[asyncpg.Connection | None] = [None, None]
        self._listen: asyncpg.Connection | None = None
        self._work_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        # nats-py's publish_async costs a third more per message than this.
        self._publisher = AckedPublisher(js._nc)
        self._notes = NotePublisher(
            self._publisher,
            publish_timeout=publish_timeout,
            forget=self._forget,
            on_failure=self._wake.set,
        )

    async def run(self) -> None:
        """Relay until cancelled, reconnecting to PostgreSQL with back-off when it fails."""
        helpers = [asyncio.create_task(self._notes.run(), name="outbox-relay-notes")]
        attempt = 0
        try:
            while True:
                raise_if_cancelled()
                try:
                    await self._serve()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("outbox relay lost postgres", schema=self.schema, error=str(exc))
                await self.close()
                await asyncio.sleep(backoff_delay(attempt))
                attempt += 1
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self.close()

    async def drain_once(self) -> int:
        """Publish everything in the outbox now, batch after batch; the number published.

        Two transactions overlap: while the acks of one batch come back, the next batch is
        claimed and published. Each commits (deleting its rows) only after all its acks.
        """
        total = 0
        async with self._work_lock:
            claimed: list[_Batch] = []  # oldest first; at most two
            try:
                for turn in itertools.count():
                    raise_if_cancelled()
                    batch = await self._claim(turn % 2)
                    claimed.append(batch)
                    if len(claimed) == 2:
                        total += await self._settle(claimed[0])
                        claimed.pop(0)
                    if len(batch.rows) < self.batch_size:
                        break
                while claimed:
                    total += await self._settle(claimed[0])
                    claimed.pop(0)
            finally:
                for batch in claimed:  # a failure or a cancellation: these rows stay
                    for _row, future in batch.futures:
                        future.cancel()
                    with contextlib.suppress(Exception):
                        await batch.transaction.rollback()
        return total

    async def close(self) -> None:
        """Close the relay's connections (run() does this itself when cancelled)."""
        connections = [*self._lanes, self._listen]
        self._lanes, self._listen = [None, None], None
        self.leading = False
        for connection in connections:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 2)

    async def _connect(self) -> asyncpg.Connection:
        settings = {
            "search_path": self.schema,
            "application_name": "outbox-relay",
            # Losing the DELETE of published rows in a database crash only means publishing
            # them again (de-duplicated), so these commits need not wait for the WAL flush.
            "synchronous_commit": "off",
        }
        return await asyncpg.connect(self.dsn, server_settings=settings)

    async def _lane(self, index: int) -> asyncpg.Connection:
        connection = self._lanes[index]
        if connection is None or connection.is_closed():
            connection = self._lanes[index] = await self._connect()
        return connection

    async def _serve(self) -> None:
        listen = self._listen = await self._connect()
        lost = asyncio.Event()
        listen.add_termination_listener(lambda _connection: lost.set())
        failures = 0
        self._wake.set()  # publish whatever was committed while no relay ran
        while True:
            raise_if_cancelled()
            await listen.fetchval("SELECT 1")  # a dead LISTEN connection must not go unseen
            if not self.leading and await listen.fetchval(_TRY_LEAD, self._lock_key):
                await listen.add_listener(self.channel, self._on_notify)
                self.leading = True
                self._wake.set()  # events committed before LISTEN had no one to tell
                log.info("outbox relay leads", schema=self.schema, channel=self.channel)
            if self._wake.is_set():
                self._wake.clear()
                try:
                    published = await self.drain_once()
                except PublishFailed as exc:
                    failures += 1
                    delay = backoff_delay(failures)
                    log.warning("outbox publish failed", error=str(exc), retry_in=round(delay, 2))
                    await asyncio.sleep(delay)
                    self._wake.set()
                    continue
                failures = 0
                if published:
                    log.info("outbox drained", schema=self.schema, published=published)
            await first_of(self._wake, lost, within=self.fallback_poll_seconds)
            if lost.is_set():
                raise ConnectionError("the LISTEN connection closed")
            if not self._wake.is_set():
                self._wake.set()  # the fallback poll

    @property
    def _lock_key(self) -> str:
        return f"skiff-outbox-relay:{self.schema}.{self.channel}"

    async def _claim(self, lane: int) -> _Batch:
        """Open a transaction that deletes the next rows, and publish them (acks pending)."""
        connection = await self._lane(lane)
        transaction = connection.transaction()
        await transaction.start()
        try:
            rows = await connection.fetch(_CLAIM, self.batch_size)
            rows.sort(key=lambda row: row["seq"])
            batch = _Batch(rows, transaction, connection, [], [])
            await self._publish_rows(batch)
        except BaseException:
            with contextlib.suppress(Exception):
                await transaction.rollback()
            raise
        return batch

    async def _publish_rows(self, batch: _Batch) -> None:
        try:
            for row in batch.rows:
                headers = msgspec.json.decode(row["headers"], type=dict[str, str])
                headers["Nats-Msg-Id"] = row["id"]
                try:
                    future = await self._publisher.publish(row["subject"], row["payload"], headers)
                except MessageTooLarge as exc:
                    batch.dead.append((row, str(exc)))
                    continue
                batch.futures.append((row, future))
        except Exception as exc:
            for _row, future in batch.futures:
                future.cancel()
            raise PublishFailed(f"outbox events not published: {exc!r}") from exc

    async def _settle(self, batch: _Batch) -> int:
        """Wait for every ack of the batch, bury what can never be sent, commit the deletion."""
        await self._await_acks(batch)
        for row, reason in batch.dead:
            await batch.connection.execute(_BURY, row["id"], row["subject"], row["payload"], reason)
        await batch.transaction.commit()
        for row, reason in batch.dead:
            _dead_rows.add(1, {"schema": self.schema})
            log.error(
                "outbox event can never be published; moved to dead_letters",
                schema=self.schema,
                event_id=row["id"],
                subject=row["subject"],
                reason=reason,
            )
        return len(batch.rows) - len(batch.dead)

    async def _await_acks(self, batch: _Batch) -> None:
        """Every ack, or PublishFailed; a permanent refusal marks only its row as dead."""
        try:
            async with asyncio.timeout(self.publish_timeout):
                results = await asyncio.gather(
                    *(future for _row, future in batch.futures), return_exceptions=True
                )
        except Exception as exc:
            count = len(batch.rows)
            raise PublishFailed(f"{count} outbox events not acknowledged: {exc!r}") from exc
        for (row, _future), result in zip(batch.futures, results, strict=True):
            if isinstance(result, PublishRefused):
                batch.dead.append((row, str(result)))
            elif isinstance(result, BaseException):
                count = len(batch.rows)
                raise PublishFailed(f"{count} outbox events not acknowledged: {result!r}")

    def _on_notify(self, _connection: object, _pid: int, _channel: str, text: str) -> None:
        if not self._notes.offer(text):
            self._wake.set()  # too big for a notification, or NATS is lagging: drain instead

    async def _forget(self, event_ids: list[str]) -> None:
        """Delete rows published from notifications (skipping any a drain holds)."""
        async with self._work_lock:
            connection = await self._lane(0)
            await connection.execute(_FORGET, event_ids)
