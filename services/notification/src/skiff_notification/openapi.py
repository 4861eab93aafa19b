"""The error answers of a route, for its OpenAPI `responses` (all in the API.md error shape)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
from skiff_kit.errors import ErrorBody

_WHY = {
    400: "Invalid input; `details.fields` names each bad field.",
    401: "Missing, wrong, expired or revoked credentials.",
    403: "The caller lacks the role or the scope.",
    404: "No such resource in this organization.",
    409: "Not possible in the resource's current state.",
    429: "A rate limit was hit; `Retry-After` says when to try again.",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` for these statuses, plus 400 and 429 that every route can answer."""
    wanted = sorted({400, 429, *statuses})
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=_WHY[status], generate_examples=False
        )
        for status in wanted
    }


SIGNED_IN = errors(401, 403)
SIGNED_IN_BY_ID = errors(401, 403, 404)
