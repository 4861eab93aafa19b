"""`rpc.billing.credits.check`: may an organization spend `required` credits now?

Asked by the orchestrator before it starts a session. Available is the balance minus what
is reserved, never below zero (an account overdrawn by running sessions has 0 available, as
one without an account). A read, no lock: the answer holds at the instant it is given; a race
between two starts is what the documented overdraft covers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from skiff_contracts.rpc.billing import CREDIT_CHECK_SUBJECT, CreditCheck, CreditCheckReply
from skiff_messaging.errors import ReplyError
from skiff_messaging.service_bus import Responder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_billing.ledger import repository


class CreditChecks:
    """Answers credit checks from the app's database, once `bound` to it."""

    def __init__(self) -> None:
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @contextlib.asynccontextmanager
    async def bound(self, app: Any) -> AsyncIterator[None]:
        """A Litestar lifespan (before the bus's): use the kit's session factory while it runs."""
        self._sessions = app.state.get("db_session_factory")
        try:
            yield
        finally:
            self._sessions = None

    def responder(self) -> Responder:
        return Responder(
            subject=CREDIT_CHECK_SUBJECT, request_type=CreditCheck, handler=self.answer
        )

    async def answer(self, request: CreditCheck) -> CreditCheckReply:
        if request.required < 0:
            raise ReplyError("bad_request", "required must not be negative")
        if self._sessions is None:
            raise ReplyError("unavailable", "billing has no database")
        async with self._sessions() as session:
            account = await repository.account_of(session, request.organization_id)
        available = max(account.balance - account.reserved, 0) if account is not None else 0
        return CreditCheckReply(available=available, sufficient=available >= request.required)
