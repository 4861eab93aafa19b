"""The answers an `Idempotency-Key` can get from the gateway itself (API.md, Idempotency)."""

from __future__ import annotations

from skiff_kit.errors import BadRequest, Conflict, ServiceUnavailable, Unprocessable


class InvalidIdempotencyKey(BadRequest):
    """The header is empty, too long, or has characters other than visible ASCII."""

    code = "invalid_idempotency_key"
    default_message = "Idempotency-Key must be 1 to 255 visible ASCII characters."


class IdempotencyKeyReused(Unprocessable):
    """The key was first used for another request (another path, query or body)."""

    code = "idempotency_key_reused"
    default_message = (
        "This Idempotency-Key was already used with another request; use a new key for a "
        "different request."
    )


class IdempotencyKeyInUse(Conflict):
    """The first request with this key has not been answered yet: retry in a moment."""

    code = "idempotency_key_in_use"
    default_message = (
        "A request with this Idempotency-Key is still being processed; retry after the time "
        "in Retry-After to get its answer."
    )

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


class IdempotencyKeyUsed(Conflict):
    """The key's request was answered, but that answer was too large to keep for a replay."""

    code = "idempotency_key_used"
    default_message = (
        "A request with this Idempotency-Key was already answered, but its answer was too large "
        "to keep and cannot be repeated."
    )


class IdempotencyUnavailable(ServiceUnavailable):
    """The shared records cannot be reached: a keyed request is not run unprotected."""

    default_message = "Idempotency keys cannot be checked right now; retry shortly."
