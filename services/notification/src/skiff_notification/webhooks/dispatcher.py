"""The dispatcher: claims due messages from PostgreSQL and sends them, isolated per endpoint.

Woken at once by NOTIFY (a message stored, a replay, a recovery, a send finished on an endpoint
whose messages wait) and by its own timer for the next due retry or an endpoint's next token;
never a slow poll. Each claim leases due messages of endpoints that have room (the concurrency
cap and rate limit, held in PostgreSQL across replicas), so one slow or failing endpoint fills
only its own slots. Outcomes are written in batches by one writer, which keeps up at hundreds
per second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog
from skiff_messaging.aio import raise_if_cancelled
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_notification.webhooks import claims, maintenance, outcomes, sender
from skiff_notification.webhooks.clock import Clock, SystemClock
from skiff_notification.webhooks.fanout import CHANNEL
from skiff_notification.webhooks.network import Clients
from skiff_notification.webhooks.notices import Notifier

log = structlog.get_logger("skiff_notification.webhooks")
MAX_IDLE_SECONDS = 60.0  # a lost NOTIFY (a LISTEN reconnect) costs at most this
WRITE_BATCH = 500


@dataclass(frozen=True)
class DispatchConfig:
    endpoint_concurrency: int = 4
    max_in_flight: int = 256
    lease: timedelta = timedelta(seconds=60)
    timeout_seconds: float = 15.0
    max_bytes: int = 256 * 1024
    disable_after: timedelta = timedelta(days=5)
    retention: timedelta = timedelta(days=90)
    maintenance_seconds: float = 60.0
    scan_limit: int = 500


class Dispatcher:
    """Delivers webhook messages until cancelled."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clients: Clients,
        *,
        config: DispatchConfig,
        notifier: Notifier,
        dsn: str,
        schema: str,
        clock: Clock | None = None,
    ) -> None:
        """`dsn` (libpq form, the service's role) serves the claims and the LISTEN."""
        self.sessions = session_factory
        self.clients = clients
        self.config = config
        self.notifier = notifier
        self.clock = clock or SystemClock()
        self.dsn = dsn
        self.schema = schema
        self._pool: asyncpg.Pool | None = None
        # This replica's sends per endpoint (its idle connections are closed); the limits are
        # kept in PostgreSQL, across replicas (claims.py).
        self.in_flight: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._full = False  # max_in_flight reached: the next send to finish wakes the loop
        self._chores = asyncio.Event()
        self._results: asyncio.Queue[outcomes.Result] = asyncio.Queue()
        self._sending: set[asyncio.Task[None]] = set()
        self._listener: asyncpg.Connection | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Claim and send; write outcomes; do the chores; survive the database going away."""
        self._listener = await self._listen()
        helpers = [
            asyncio.create_task(self._write_outcomes(), name="webhook-outcomes"),
            asyncio.create_task(self._do_chores(), name="webhook-chores"),
        ]
        try:
            await self._claim_loop()
        finally:
            for task in [*helpers, *self._sending]:
                task.cancel()
            await asyncio.gather(*helpers, *self._sending, return_exceptions=True)
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._listener.close(), 2)
            if self._pool is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._pool.close(), 2)

    async def _claim_loop(self) -> None:
        failures = 0
        while True:
            raise_if_cancelled()
            self._wake.clear()
            if self._listener is None or self._listener.is_closed():
                self._listener = await self._listen()  # lost with its connection: listen again
            try:
                claimed = await self.claim_once()
                failures = 0
            except Exception as exc:
                failures += 1
                log.warning("webhook claim failed", error=repr(exc))
                await self.clock.wait(min(30.0, 0.5 * 2**failures), self._wake)
                continue
            if claimed is not None:  # it took all it could: whatever else is due waits
                await self.clock.wait(self._idle_seconds(claimed), self._wake)

    async def claim_once(self) -> claims.Claim | None:
        """Lease and start what may start now. The claim, saying when there may be more
        (None when more may be due at once: it stopped at its limit)."""
        room_total = self.config.max_in_flight - len(self._sending)
        if room_total <= 0:
            self._full = True  # the next send to finish wakes the loop
            return claims.Claim()
        now = self.clock.now()
        limit = min(self.config.scan_limit, room_total)
        async with (await self._claims_pool()).acquire() as connection:
            claimed = await claims.claim(
                connection,
                now=now,
                lease_until=now + self.config.lease,
                per_endpoint=self.config.endpoint_concurrency,
                limit=limit,
            )
        for message, target in claimed.taken:
            self.in_flight[target.id] += 1
            task = asyncio.create_task(self._send(message, target, now))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return None if len(claimed.taken) >= limit else claimed

    async def _claims_pool(self) -> asyncpg.Pool:
        """The dispatcher's own connections: a claim is one statement, no BEGIN/COMMIT trips."""
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=1,
                max_size=2,
                server_settings={
                    "search_path": self.schema,
                    "application_name": "webhooks",
                    # Due messages are found by plain index scans, never bitmap scans: every
                    # send leaves a dead entry in the partial "due" indexes until VACUUM, and
                    # only a plain scan marks such entries dead for the next one to skip. After
                    # a burst of thousands of sends, a bitmap scan visited every dead entry
                    # and its heap page on each claim (0.5 ms, growing with the burst).
                    "enable_bitmapscan": "off",
                    # Planned for each claim's `now` (about 1 ms of a 1.5 ms claim): with an
                    # endpoint's messages left behind (a hanging endpoint at its cap), the
                    # prepared generic plan made the others' deliveries' p99 4-5x slower
                    # (bench/webhooks isolation: 51-66 ms against 12-13 ms planned each time).
                    "plan_cache_mode": "force_custom_plan",
                },
            )
        return self._pool

    async def _send(
        self, claimed: claims.Claimed, target: claims.Target, started_at: datetime
    ) -> None:
        try:
            outcome = await sender.attempt(
                self.clients.of(target.id),
                url=target.url,
                message_id=claimed.id,
                body=claimed.body,
                secrets=target.secrets,
                timeout_seconds=self.config.timeout_seconds,
            )
        finally:
            self.in_flight[target.id] -= 1
            if self.in_flight[target.id] <= 0:
                del self.in_flight[target.id]
            # Not otherwise: the endpoint's lease counts until the outcome is recorded, whose
            # NOTIFY wakes the dispatchers if its messages wait for the room.
            if self._full:
                self._full = False
                self._wake.set()
        self._results.put_nowait(outcomes.Result(claimed, outcome, started_at))
        log.debug(
            "webhook attempt",
            message_id=claimed.id,
            endpoint_id=target.id,
            status_code=outcome.status_code,
            error=outcome.error,
        )

    def _idle_seconds(self, claimed: claims.Claim) -> float:
        """Until the next message falls due, or an endpoint with due messages has room again.

        Sooner when woken: a new message, a replay or a recovery, or a recorded attempt on an
        endpoint whose messages wait (NOTIFY, from any replica); a failed attempt's retry
        (this replica's outcome writer); a finished send when max_in_flight was reached.
        """
        room_at = min(claimed.room_at.values(), default=None)
        moments = [m for m in (claimed.next_due, room_at) if m is not None]
        if not moments:
            return MAX_IDLE_SECONDS
        seconds = (min(moments) - self.clock.now()).total_seconds()
        # Due now yet left behind: held by another replica's claim just then.
        return min(MAX_IDLE_SECONDS, max(seconds, 0.05 if room_at is not None else 0.001))

    async def _write_outcomes(self) -> None:
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < WRITE_BATCH:
                batch.append(self._results.get_nowait())
            failures = 0
            while True:
                try:
                    async with self.sessions() as session, session.begin():
                        await outcomes.apply(
                            session,
                            batch,
                            now=self.clock.now(),
                            disable_after=self.config.disable_after,
                            notifier=self.notifier,
                        )
                    break
                except Exception as exc:  # kept and written again: the lease covers the wait
                    failures += 1
                    log.warning("webhook outcomes not written", error=repr(exc), count=len(batch))
                    await asyncio.sleep(min(10.0, 0.2 * 2**failures))
            if not all(result.outcome.succeeded for result in batch):
                self._wake.set()  # a retry is scheduled: the loop's sleep may be too long

    async def _do_chores(self) -> None:
        while True:
            try:
                await self.chores()
            except Exception as exc:
                log.warning("webhook chores failed", error=repr(exc))
            self._chores.clear()
            await self.clock.wait(self.config.maintenance_seconds, self._chores)

    async def chores(self) -> None:
        """Recoveries, health by the clock, retention, idle clients; one transaction each."""
        await self.clients.close_idle(set(self.in_flight))
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            recovered = await maintenance.run_recoveries(
                session, now=now, max_bytes=self.config.max_bytes
            )
        if recovered:
            self._wake.set()
        async with self.sessions() as session, session.begin():
            await maintenance.park_strays(session)
            await maintenance.check_endpoints(
                session, now=now, disable_after=self.config.disable_after, notifier=self.notifier
            )
        async with self.sessions() as session, session.begin():
            await maintenance.purge(session, now=now, retention=self.config.retention)

    def _notified(self, *args: object) -> None:
        payload = args[-1] if args else ""
        if payload == "recover":
            self._chores.set()
        self._wake.set()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            connection = await asyncpg.connect(self.dsn)
            await connection.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("webhook dispatcher cannot LISTEN", error=repr(exc))
            return None
        return connection
