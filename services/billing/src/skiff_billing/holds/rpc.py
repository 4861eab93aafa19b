"""`rpc.billing.holds.{reserve,capture,release}`: holds by request/reply, one transaction each.

A domain error becomes an error reply with its code and details (`insufficient_credits`
with `{required, available}`, `hold_not_found`, `hold_already_resolved`...); the auto top-up
check runs in the same transaction as the reservation or capture that lowered `available`.
Each call commits alone when no rule will write, else takes the session's road (holds.calls).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
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

from skiff_billing.functions import HoldRow
from skiff_billing.holds.calls import HoldCalls
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
        self._calls: HoldCalls | None = None

    @contextlib.asynccontextmanager
    async def bound(self, app: Any) -> AsyncIterator[None]:
        """A Litestar lifespan (before the bus's): use the kit's engine and sessions while it
        runs."""
        engine, sessions = app.state.get("db_engine"), app.state.get("db_session_factory")
        if engine is not None and sessions is not None:
            self._calls = HoldCalls(engine, sessions, self.policy)
        try:
            yield
        finally:
            self._calls = None

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
        now = datetime.now(UTC)
        with REPLIED:
            hold = await self._bound().reserve(
                organization_id=request.organization_id,
                amount=request.amount,
                reference=request.reference,
                expires_at=now + timedelta(seconds=seconds),
                description=(request.description or request.reference)[:500],
                now=now,
            )
        return reply_of(hold)

    async def capture(self, request: HoldCapture) -> HoldReply:
        with REPLIED:
            hold = await self._bound().capture(hold_id=request.hold_id, amount=request.amount)
        if hold.status != "captured":  # it expired just now: committed, then refused
            raise ReplyError(
                HOLD_RESOLVED, f"Hold {hold.id} is already {hold.status}.", {"status": hold.status}
            )
        return reply_of(hold)

    async def release(self, request: HoldRelease) -> HoldReply:
        with REPLIED:
            hold = await self._bound().release(hold_id=request.hold_id)
        return reply_of(hold)

    def _bound(self) -> HoldCalls:
        if self._calls is None:
            raise ReplyError("unavailable", "billing has no database")
        return self._calls


class _Replied:
    """`with REPLIED:` a domain error becomes the error reply of its code and details.

    A class, not `@contextmanager`: this wraps every hold call, and a generator's machinery
    costs more than the rest of it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: object, error: BaseException | None, _trace: object) -> None:
        if isinstance(error, SkiffError):
            raise ReplyError(error.code, error.message, error.details) from None


REPLIED = _Replied()
