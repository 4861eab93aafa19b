"""Errors of holds, each with its HTTP status and the code an RPC caller sees."""

from __future__ import annotations

from skiff_contracts.rpc.billing import (
    HOLD_NOT_FOUND,
    HOLD_RESOLVED,
    INSUFFICIENT_CREDITS,
    REFERENCE_REUSED,
)
from skiff_kit.errors import BadRequest, Conflict, NotFound, PaymentRequired


def insufficient_credits(required: int, available: int) -> PaymentRequired:
    """402 `insufficient_credits {required, available}` (API.md, Billing)."""
    return PaymentRequired(
        f"{required} credits are needed and {available} are available.",
        code=INSUFFICIENT_CREDITS,
        details={"required": required, "available": available},
    )


def hold_not_found(hold_id: str) -> NotFound:
    return NotFound(f"No hold {hold_id}.", code=HOLD_NOT_FOUND)


def hold_resolved(hold_id: str, status: str) -> Conflict:
    return Conflict(
        f"Hold {hold_id} is already {status}.", code=HOLD_RESOLVED, details={"status": status}
    )


def reference_reused(reference: str, amount: int) -> Conflict:
    return Conflict(
        f"Reference {reference!r} already holds {amount} credits.",
        code=REFERENCE_REUSED,
        details={"reference": reference, "amount": amount},
    )


def bad_amount(message: str) -> BadRequest:
    return BadRequest(message, code="invalid_amount")
