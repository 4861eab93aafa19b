"""The sender loop: claims due outbox rows one at a time and delivers them over SMTP.

A row is claimed with `FOR UPDATE SKIP LOCKED` and updated in the same transaction once the
server answered, so replicas never send one row together and a crash leaves it pending (it
is sent again: at least once, each copy carrying the same Message-ID). NOTIFY wakes the loop
at once; a short poll catches retries that fall due and anything a lost NOTIFY missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from skiff_messaging.aio import raise_if_cancelled
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_notification.email import smtp
from skiff_notification.email.models import FAILED, PENDING, SENT, OutgoingEmail
from skiff_notification.email.service import CHANNEL

log = structlog.get_logger("skiff_notification.email")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Back-off after `attempts` failed tries: base, 2 base, 4 base ... up to max."""
        seconds = min(self.max_seconds, self.base_seconds * 2 ** min(attempts - 1, 30))
        return timedelta(seconds=seconds)


class EmailSender:
    """Delivers the email outbox until cancelled."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        config: smtp.SmtpConfig,
        *,
        retry: RetryPolicy,
        listen_dsn: str | None = None,
        poll_seconds: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.config = config
        self.retry = retry
        self.listen_dsn = listen_dsn
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Deliver what is due, then wait for a NOTIFY or the poll; survive any failure."""
        listener = await self._listen()
        try:
            while True:
                raise_if_cancelled()  # a cancel swallowed by a driver must still stop the loop
                self._wake.clear()
                try:
                    while await self.deliver_one():
                        pass
                except Exception as exc:  # the database is away: try again after the poll
                    log.warning("email sender failed", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(listener.close(), 2)

    async def deliver_one(self) -> bool:
        """Claim one due row and try to send it; False when nothing is due."""
        now = datetime.now(UTC)
        async with self.session_factory() as session, session.begin():
            row = await session.scalar(
                select(OutgoingEmail)
                .where(OutgoingEmail.status == PENDING, OutgoingEmail.next_attempt_at <= now)
                .order_by(OutgoingEmail.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return False
            row.attempts += 1
            try:
                await smtp.send(self.config, smtp.message_of(row, self.config.sender))
            except Exception as exc:
                self._failed(row, exc)
            else:
                row.status, row.sent_at, row.last_error = SENT, datetime.now(UTC), None
                log.info("email sent", email_id=row.id, kind=row.kind, attempts=row.attempts)
        return True

    def _failed(self, row: OutgoingEmail, error: Exception) -> None:
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        if smtp.is_permanent(error) or row.attempts >= self.retry.max_attempts:
            row.status = FAILED
            log.error(
                "email given up", email_id=row.id, attempts=row.attempts, error=row.last_error
            )
            return
        row.next_attempt_at = datetime.now(UTC) + self.retry.delay(row.attempts)
        log.warning("email not sent; retrying", email_id=row.id, error=row.last_error)

    async def _listen(self) -> asyncpg.Connection | None:
        """LISTEN for new rows; without it (no DSN, or it failed) the poll still delivers."""
        if not self.listen_dsn:
            return None
        try:
            connection = await asyncpg.connect(self.listen_dsn)
            await connection.add_listener(CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("email sender cannot LISTEN; polling only", error=repr(exc))
            return None
        return connection
