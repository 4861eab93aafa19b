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


class CreditsPurchased(EventPayload, frozen=True, kw_only=True):
    """A purchase was paid and its credits granted (a checkout or an auto top-up)."""

    event_type: ClassVar[str] = "billing.credits.purchased"
    description: ClassVar[str] = (
        "Credits bought through Stripe or Polar were added, once, when the provider said paid."
    )

    organization_id: str
    purchase_id: str
    transaction_id: str
    credits: int
    amount: int  # in the currency's minor unit (cents)
    currency: str
    provider: str  # "stripe" | "polar"
    auto_topup: bool
    balance_after: int
    paid_at: datetime


class CreditsRefunded(EventPayload, frozen=True, kw_only=True):
    """Money of a purchase was refunded: its share of the purchase's credits was taken back."""

    event_type: ClassVar[str] = "billing.credits.refunded"
    description: ClassVar[str] = (
        "A purchase was (partly) refunded and that share of its credits taken back; "
        "the balance may go below zero."
    )

    organization_id: str
    purchase_id: str
    transaction_id: str
    credits: int  # taken back by this refund (positive)
    refunded_credits_total: int
    fully_refunded: bool
    balance_after: int


class CreditsDisputed(EventPayload, frozen=True, kw_only=True):
    """A payment was disputed (chargeback): its credits held, then restored or taken back."""

    event_type: ClassVar[str] = "billing.credits.disputed"
    description: ClassVar[str] = (
        "A purchase's payment was disputed (status opened), or the dispute closed (won: the "
        "credits are available again; lost: they were taken back)."
    )

    organization_id: str
    purchase_id: str
    dispute_id: str
    status: str  # "opened" | "won" | "lost"
    credits: int
    balance_after: int


class PurchaseFailed(EventPayload, frozen=True, kw_only=True):
    """A purchase will not be paid: the payment failed, or the checkout expired."""

    event_type: ClassVar[str] = "billing.purchase.failed"
    description: ClassVar[str] = "A checkout's payment failed or the checkout expired unpaid."

    organization_id: str
    purchase_id: str
    status: str  # "failed" | "expired"
    reason: str
    credits: int


class CreditsLow(EventPayload, frozen=True, kw_only=True):
    """Available credits fell below the low mark (once, until they are above it again)."""

    event_type: ClassVar[str] = "billing.credits.low"
    description: ClassVar[str] = "An organization's available credits fell below the low mark."

    organization_id: str
    available: int
    threshold: int
    balance: int


class AutoTopupStarted(EventPayload, frozen=True, kw_only=True):
    """Available credits fell below the auto top-up threshold: the saved card is to be charged."""

    event_type: ClassVar[str] = "billing.autotopup.started"
    description: ClassVar[str] = (
        "An automatic top-up started: billing charges the saved card off-session; the credits "
        "arrive with `billing.credits.purchased` once the provider says paid."
    )

    organization_id: str
    attempt_id: str
    purchase_id: str
    package_id: str
    credits: int
    amount: int
    currency: str


class AutoTopupFailed(EventPayload, frozen=True, kw_only=True):
    """An auto top-up charge failed; after too many in a row auto top-up is disabled."""

    event_type: ClassVar[str] = "billing.autotopup.failed"
    description: ClassVar[str] = (
        "An automatic top-up could not charge the saved card; `disabled` says whether auto "
        "top-up was turned off after too many failures in a row (the owners are told)."
    )

    organization_id: str
    attempt_id: str
    purchase_id: str
    reason: str
    consecutive_failures: int
    disabled: bool


EVENTS = (
    AccountOpened,
    CreditsGranted,
    UsageCharged,
    CreditsExhausted,
    CreditsPurchased,
    CreditsRefunded,
    CreditsDisputed,
    PurchaseFailed,
    CreditsLow,
    AutoTopupStarted,
    AutoTopupFailed,
)
