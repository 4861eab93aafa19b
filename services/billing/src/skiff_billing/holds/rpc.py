"""`rpc.billing.holds.{reserve,capture,release}`: holds by request/reply, one transaction each.

A domain error becomes an error reply with its code and details (`insufficient_credits`
with `{required, available}`, `hold_not_found`, `hold_already_resolved`...); the auto top-up
check runs in the same transaction as the reservation or capture that lowered `available`
(holds.service).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from skiff_contracts.rpc.billing import (
    HOLD_CAPTURE_SUBJECT,
    HOLD_RELEASE_SUBJECT,
    HOLD_RESERVE_SUBJECT,
    HOLD_RESOLVED,
    HoldCapture,
    HoldRelease,
    HoldReply,
    HoldReserve,
)
from skiff_kit.errors import SkiffError
from skiff_messaging.errors import ReplyError
from skiff_messaging.service_bus import Responder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_billing.functions import HoldRow
from skiff_billing.holds import service
from skiff_billing.policy import Policy


def reply_of(hold: HoldRow) -> HoldReply:
    return HoldReply(
        id=hold.id,
        organization_id=hold.organization_id,
        amount=hold.amount,
        captured=hold.captured,
        status=hold.status,
        reference=hold.reference,
        expires_at=hold.expires_at,
    )


class HoldResponders:
    """Answers hold requests from the app's database, once `bound` to it."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @contextlib.asynccontextmanager
    async def bound(self, app: Any) -> AsyncIterator[None]:
        """A Litestar lifespan (before the bus's): use the kit's session factory while it runs."""
        self._sessions = app.state.get("db_session_factory")
        try:
            yield
        finally:
            self._sessions = None

    def responders(self) -> list[Responder]:
        return [
            Responder(subject=HOLD_RESERVE_SUBJECT, request_type=HoldReserve, handler=self.reserve),
            Responder(subject=HOLD_CAPTURE_SUBJECT, request_type=HoldCapture, handler=self.capture),
            Responder(subject=HOLD_RELEASE_SUBJECT, request_type=HoldRelease, handler=self.release),
        ]

    async def reserve(self, request: HoldReserve) -> HoldReply:
        policy = self.policy
        seconds = request.expires_in or policy.hold_default_expires_seconds
        if not 1 <= seconds <= policy.hold_max_expires_seconds:
            raise ReplyError(
                "bad_request", f"expires_in must be 1 to {policy.hold_max_expires_seconds} seconds"
            )
        if not 1 <= len(request.reference) <= 200:
            raise ReplyError("bad_request", "reference must have 1 to 200 characters")

        async def run(session: AsyncSession, now: datetime) -> HoldRow:
            return await service.reserve(
                session,
                organization_id=request.organization_id,
                amount=request.amount,
                reference=request.reference,
                expires_at=now + timedelta(seconds=seconds),
                description=(request.description or request.reference)[:500],
                policy=policy,
                now=now,
            )

        return reply_of(await self._transaction(run))

    async def capture(self, request: HoldCapture) -> HoldReply:
        async def run(session: AsyncSession, now: datetime) -> HoldRow:
            return await service.capture(
                session, hold_id=request.hold_id, amount=request.amount, policy=self.policy, now=now
            )

        hold = await self._transaction(run)
        if hold.status != "captured":  # it expired just now: committed, then refused
            raise ReplyError(
                HOLD_RESOLVED, f"Hold {hold.id} is already {hold.status}.", {"status": hold.status}
            )
        return reply_of(hold)

    async def release(self, request: HoldRelease) -> HoldReply:
        async def run(session: AsyncSession, now: datetime) -> HoldRow:
            return await service.release(
                session, hold_id=request.hold_id, policy=self.policy, now=now
            )

        return reply_of(await self._transaction(run))

    async def _transaction(
        self, run: Callable[[AsyncSession, datetime], Awaitable[HoldRow]]
    ) -> HoldRow:
        if self._sessions is None:
            raise ReplyError("unavailable", "billing has no database")
        try:
            async with self._sessions() as session, session.begin():
                return await run(session, datetime.now(UTC))
        except SkiffError as error:
            raise ReplyError(error.code, error.message, error.details) from None
