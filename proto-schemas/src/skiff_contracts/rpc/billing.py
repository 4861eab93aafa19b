"""Billing's request/reply: may an organization spend credits now?"""

from __future__ import annotations

import msgspec

CREDIT_CHECK_SUBJECT = "rpc.billing.credits.check"


class CreditCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Asks whether `required` credits are available to `organization_id`."""

    organization_id: str
    required: int


class CreditCheckReply(msgspec.Struct, frozen=True, kw_only=True):
    """`sufficient` is `available >= required`; an organization with no account has 0."""

    available: int
    sufficient: bool
