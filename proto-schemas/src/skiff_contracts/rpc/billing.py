"""Billing's request/reply: may an organization spend credits now; two-phase holds."""

from __future__ import annotations

from datetime import datetime

import msgspec

CREDIT_CHECK_SUBJECT = "rpc.billing.credits.check"
HOLD_RESERVE_SUBJECT = "rpc.billing.holds.reserve"
HOLD_CAPTURE_SUBJECT = "rpc.billing.holds.capture"
HOLD_RELEASE_SUBJECT = "rpc.billing.holds.release"
# Error codes of the hold replies (RemoteError.code on the caller's side).
INSUFFICIENT_CREDITS = "insufficient_credits"  # details: {required, available}
HOLD_NOT_FOUND = "hold_not_found"
HOLD_RESOLVED = "hold_already_resolved"  # details: {status}
REFERENCE_REUSED = "hold_reference_reused"  # same reference, another amount


class CreditCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Asks whether `required` credits are available to `organization_id`."""

    organization_id: str
    required: int


class CreditCheckReply(msgspec.Struct, frozen=True, kw_only=True):
    """`sufficient` is `available >= required`; an organization with no account has 0."""

    available: int
    sufficient: bool


class HoldReserve(msgspec.Struct, frozen=True, kw_only=True):
    """Set `amount` credits aside for `reference` for `expires_in` seconds (then released).

    Idempotent on (organization, reference): asking again answers the same hold.
    """

    organization_id: str
    amount: int
    reference: str
    expires_in: int | None = None
    description: str | None = None


class HoldCapture(msgspec.Struct, frozen=True, kw_only=True):
    """Spend a pending hold: all of it, or `amount` of it (the rest is released)."""

    hold_id: str
    amount: int | None = None


class HoldRelease(msgspec.Struct, frozen=True, kw_only=True):
    """Give a pending hold back, whole."""

    hold_id: str


class HoldReply(msgspec.Struct, frozen=True, kw_only=True):
    """A hold as it is after the call (`captured` is what was spent)."""

    id: str
    organization_id: str
    amount: int
    captured: int
    status: str  # "pending" | "captured" | "released" | "expired"
    reference: str
    expires_at: datetime | None
