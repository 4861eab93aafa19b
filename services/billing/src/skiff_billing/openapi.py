"""The error answers each billing route documents (all in `ErrorBody`, API.md's error shape)."""

from __future__ import annotations

from litestar.openapi import ResponseSpec
from skiff_kit.errors import ErrorBody

DESCRIPTIONS = {
    400: "Invalid parameters or body (`validation_error`, each bad field in `details.fields`)",
    401: "No valid credentials",
    402: "Not enough credits (`insufficient_credits`: `details.required`, `details.available`)",
    403: "The caller's role or the key's scopes do not allow it",
    404: "No such resource in the caller's organization, or no credit account yet",
    409: "The request conflicts with the current state",
    422: "An Idempotency-Key reused with another request",
    429: "Rate limited (see `Retry-After`)",
    502: "The payment provider answered with an error",
    503: "The payment provider is not configured or not reachable",
}
READ = (400, 401, 403, 404, 429)
WRITE = (*READ, 409, 422)


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` of a route: each status with the shared error schema."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=DESCRIPTIONS[status], generate_examples=False
        )
        for status in sorted(set(statuses))
    }
