"""`rpc.billing.credits.check`: may an organization spend `required` credits now?

Asked by the orchestrator before it starts a session. Available is the balance minus what
is reserved, never below zero (an account overdrawn by running sessions has 0 available, as
one without an account). A read, no lock: the answer holds at the instant it is given; a race
between two starts is what the documented overdraft covers.
"""

from __future__ import annotations

from skiff_contracts.rpc.billing import CREDIT_CHECK_SUBJECT, CreditCheck, CreditCheckReply
from skiff_kit.db import AppSessions
from skiff_messaging.errors import ReplyError
from skiff_messaging.service_bus import Responder

from skiff_billing.ledger import repository


class CreditChecks(AppSessions):
    """Answers credit checks from the app's database, once `bound` to it."""

    def responder(self) -> Responder:
        return Responder(
            subject=CREDIT_CHECK_SUBJECT, request_type=CreditCheck, handler=self.answer
        )

    async def answer(self, request: CreditCheck) -> CreditCheckReply:
        if request.required < 0:
            raise ReplyError("bad_request", "required must not be negative")
        if self.factory is None:
            raise ReplyError("unavailable", "billing has no database")
        async with self.factory() as session:
            account = await repository.account_of(session, request.organization_id)
        available = max(account.balance - account.reserved, 0) if account is not None else 0
        return CreditCheckReply(available=available, sufficient=available >= request.required)
