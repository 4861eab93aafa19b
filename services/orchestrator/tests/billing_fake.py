"""A stand-in for billing on NATS: `rpc.billing.credits.check` and the events billing publishes."""

from __future__ import annotations

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from sandbox_fakes import now, publish_event
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.billing import CreditsExhausted, UsageCharged
from skiff_contracts.rpc.billing import CREDIT_CHECK_SUBJECT, CreditCheck, CreditCheckReply
from skiff_messaging.rpc import serve


class FakeBilling:
    """Billing's side: the credit check, and the events it publishes."""

    def __init__(self, nc: NATS, *, default_available: int = 100) -> None:
        self.nc = nc
        self.default_available = default_available
        self.available: dict[str, int] = {}
        self.checks: list[CreditCheck] = []
        self._subscription: Subscription | None = None

    async def start(self) -> FakeBilling:
        self._subscription = await serve(
            self.nc, CREDIT_CHECK_SUBJECT, CreditCheck, self._check, queue="billing"
        )
        return self

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _check(self, check: CreditCheck) -> CreditCheckReply:
        self.checks.append(check)
        available = self.available.get(check.organization_id, self.default_available)
        return CreditCheckReply(available=available, sufficient=available >= check.required)

    async def charged(self, org: str, session_id: str, total: int) -> Envelope:
        event = UsageCharged(
            organization_id=org,
            session_id=session_id,
            transaction_id=new_id("txn"),
            amount=1,
            session_credits_total=total,
            balance_after=100 - total,
        )
        return await publish_event(self.nc, event, source="skiff/billing", org=org)

    async def exhausted(self, org: str) -> Envelope:
        event = CreditsExhausted(organization_id=org, balance=0, exhausted_at=now())
        return await publish_event(self.nc, event, source="skiff/billing", org=org)
