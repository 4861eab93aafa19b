"""The HTTP face of the throttle: 429 `too_many_attempts` with a `Retry-After` header."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.types import ExceptionHandlersMap
from skiff_kit.error_handlers import error_response
from skiff_kit.errors import ErrorBody

from skiff_identity.security.throttle import TooManyAttempts


def too_many_attempts(request: Request[Any, Any, Any], exc: TooManyAttempts) -> Response[ErrorBody]:
    """429 in the API error shape, with `Retry-After` (the kit's handler sends no headers)."""
    return error_response(
        request,
        status_code=exc.status_code,
        message=exc.message,
        code=exc.code,
        details=exc.details,
        headers={"Retry-After": str(exc.retry_after)},
    )


THROTTLE_HANDLERS: ExceptionHandlersMap = {TooManyAttempts: too_many_attempts}
