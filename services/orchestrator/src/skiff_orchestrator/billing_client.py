"""Asks billing, by request/reply, whether an organization may start a session."""

from __future__ import annotations

from nats.aio.client import Client as NATS
from skiff_contracts.rpc.billing import CREDIT_CHECK_SUBJECT, CreditCheck, CreditCheckReply
from skiff_messaging.errors import RequestFailed
from skiff_messaging.rpc import request

from skiff_orchestrator.errors import BillingUnavailable, InsufficientCredits

SESSION_START_CREDITS = 1  # the first started minute


async def require_credits(nc: NATS, organization_id: str, *, within: float) -> None:
    """402 `insufficient_credits` unless billing says the credits are there; 503 if it is silent."""
    try:
        reply = await request(
            nc,
            CREDIT_CHECK_SUBJECT,
            CreditCheck(organization_id=organization_id, required=SESSION_START_CREDITS),
            CreditCheckReply,
            timeout=within,
        )
    except RequestFailed as exc:
        raise BillingUnavailable(details={"reason": str(exc)}) from exc
    if not reply.sufficient:
        raise InsufficientCredits(
            "Not enough credits to start a session.",
            details={"required": SESSION_START_CREDITS, "available": reply.available},
        )
