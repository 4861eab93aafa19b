"""Errors as data: each carries its HTTP status and a snake_case code (API.md, Errors)."""

from __future__ import annotations

from typing import Any

import msgspec


class SkiffError(Exception):
    """Base of every error a service raises on purpose; the kit renders it as `ErrorBody`."""

    status_code: int = 500
    code: str = "internal_error"
    default_message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = details or {}
        # Sent with the error response (a 429's `Retry-After`, a 401's `WWW-Authenticate`).
        self.headers: dict[str, str] = headers or {}
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class BadRequest(SkiffError):
    """The request is malformed."""

    status_code = 400
    code = "bad_request"
    default_message = "Bad request"


class ValidationFailed(SkiffError):
    """One or more fields are invalid; `details["fields"]` lists them."""

    status_code = 400
    code = "validation_error"
    default_message = "Validation failed"


class Unauthorized(SkiffError):
    """Credentials are missing, wrong, expired or revoked."""

    status_code = 401
    code = "unauthorized"
    default_message = "Authentication required"


class PaymentRequired(SkiffError):
    """Not enough credits for what was asked."""

    status_code = 402
    code = "insufficient_credits"
    default_message = "Insufficient credits"


class Forbidden(SkiffError):
    """Valid credentials without the role or scope."""

    status_code = 403
    code = "forbidden"
    default_message = "Forbidden"


class NotFound(SkiffError):
    """No such resource (or one of another organization)."""

    status_code = 404
    code = "not_found"
    default_message = "Not found"


class Conflict(SkiffError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"
    default_message = "Conflict"


class PayloadTooLarge(SkiffError):
    """The request, or something it would send on, is larger than allowed."""

    status_code = 413
    code = "payload_too_large"
    default_message = "The request is too large."


class Unprocessable(SkiffError):
    """Well-formed but cannot be done (e.g. an idempotency key reused with another body)."""

    status_code = 422
    code = "unprocessable"
    default_message = "Unprocessable request"


class TooManyRequests(SkiffError):
    """A rate limit was hit."""

    status_code = 429
    code = "rate_limited"
    default_message = "Too many requests"


class BadGateway(SkiffError):
    """An upstream answered with nonsense."""

    status_code = 502
    code = "bad_gateway"
    default_message = "Bad gateway"


class ServiceUnavailable(SkiffError):
    """A dependency is down or nobody answered."""

    status_code = 503
    code = "service_unavailable"
    default_message = "Service unavailable"


class GatewayTimeout(SkiffError):
    """An upstream did not answer in time."""

    status_code = 504
    code = "gateway_timeout"
    default_message = "Gateway timeout"


class ErrorBody(msgspec.Struct):
    """The one error shape of every response: `{error, code, details, request_id}`."""

    error: str
    code: str
    details: dict[str, Any]
    request_id: str


CODE_BY_STATUS: dict[int, str] = {
    cls.status_code: cls.code
    for cls in (
        BadRequest,
        Unauthorized,
        PaymentRequired,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        Unprocessable,
        TooManyRequests,
        BadGateway,
        ServiceUnavailable,
        GatewayTimeout,
    )
}
CODE_BY_STATUS[405] = "method_not_allowed"
CODE_BY_STATUS[500] = "internal_error"
