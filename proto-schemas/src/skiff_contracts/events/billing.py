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


class UsageCharged(EventPayload, frozen=True, kw_only=True):
    """Container-minutes of a session were charged to its organization's ledger."""

    event_type: ClassVar[str] = "billing.usage.charged"
    description: ClassVar[str] = "Session usage was charged (1 credit per started minute)."

    organization_id: str
    session_id: str
    transaction_id: str
    amount: int
    session_credits_total: int
    balance_after: int


class CreditsExhausted(EventPayload, frozen=True, kw_only=True):
    """An organization's balance reached zero; its running sessions are to be stopped."""

    event_type: ClassVar[str] = "billing.credits.exhausted"
    description: ClassVar[str] = "An organization ran out of credits."

    organization_id: str
    balance: int
    exhausted_at: datetime


EVENTS = (AccountOpened, CreditsGranted, UsageCharged, CreditsExhausted)
