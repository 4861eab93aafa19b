"""Events published by billing (`billing.>` on the BILLING stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from skiff_contracts.envelope import EventPayload


class AccountOpened(EventPayload, frozen=True, kw_only=True):
    """An organization's credit account was opened, with its signup bonus."""

    event_type: ClassVar[str] = "billing.account.opened"
    description: ClassVar[str] = "A credit account was opened for an organization."

    organization_id: str
    account_id: str
    bonus_credits: int
    balance: int
    opened_at: datetime


class CreditsGranted(EventPayload, frozen=True, kw_only=True):
    """Credits were added to an account without a purchase (a bonus or an adjustment)."""

    event_type: ClassVar[str] = "billing.credits.granted"
    description: ClassVar[str] = "Credits were granted to an organization (bonus, adjustment)."

    organization_id: str
    transaction_id: str
    amount: int
    balance_after: int
    reason: str


EVENTS = (AccountOpened, CreditsGranted)
