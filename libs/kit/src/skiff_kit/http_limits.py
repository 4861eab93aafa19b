"""What the HTTP server refuses below the application, and the error-shape answers it writes.

The limits come from the service's settings (`SKIFF_HTTP_*`, docs/settings.md); the answers
are the API's error shape `{error, code, details, request_id}`, written straight to the socket
by `skiff_kit.http_protocol` because no application runs for a request that never parsed.
"""

from __future__ import annotations

import http

import msgspec

from skiff_kit.errors import ErrorBody
from skiff_kit.settings import ServiceSettings


class HttpLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Sizes and times one connection may take (defaults: a service's, see `ServiceSettings`)."""

    max_header_count: int = 200
    max_header_bytes: int = 16 * 1024  # one header (name + value), and the request target
    max_head_bytes: int = 64 * 1024  # request target + every header name and value
    header_timeout: float = 20.0  # from a head's first byte (or a fresh connection) to its end
    body_timeout: float = 30.0  # longest wait for the next byte of an expected body
    idle_timeout: float = 75.0  # a kept-alive connection without a new request is closed

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> HttpLimits:
        """The limits `settings` ask for."""
        return cls(
            max_header_count=settings.http_max_header_count,
            max_header_bytes=settings.http_max_header_bytes,
            max_head_bytes=settings.http_max_head_bytes,
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            idle_timeout=settings.http_idle_timeout_seconds,
        )


class Refusal(msgspec.Struct, frozen=True):
    """One answer the server writes itself, then closes the connection."""

    status: int
    code: str
    message: str
    details: dict[str, object]

    def encode(self, request_id: str, extra_headers: list[tuple[bytes, bytes]]) -> bytes:
        """The whole HTTP/1.1 answer: status line, headers (`connection: close`), JSON body."""
        body = msgspec.json.encode(ErrorBody(self.message, self.code, self.details, request_id))
        phrase = http.HTTPStatus(self.status).phrase
        lines = [f"HTTP/1.1 {self.status} {phrase}".encode()]
        lines += [name + b": " + value for name, value in extra_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: %d" % len(body),
            b"x-request-id: " + request_id.encode("ascii"),
            b"connection: close",
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


def header_refused(limit: str, maximum: int, header: bytes | None = None) -> Refusal:
    """431: too many headers, one too large, or all of them together too large."""
    details: dict[str, object] = {"limit": limit, "max": maximum}
    if header is not None:
        details["header"] = header[:64].decode("latin-1").lower()
    return Refusal(
        431,
        "request_header_fields_too_large",
        f"Request headers exceed the limit {limit} ({maximum})",
        details,
    )


def target_refused(maximum: int) -> Refusal:
    """414: the request target (path and query) is longer than one header may be."""
    return Refusal(
        414,
        "uri_too_long",
        f"The request target is longer than {maximum} bytes",
        {"limit": "target_bytes", "max": maximum},
    )


def timed_out(waiting_for: str, seconds: float) -> Refusal:
    """408: the request head, or the next part of its body, did not arrive in time."""
    return Refusal(
        408,
        "request_timeout",
        f"The request {waiting_for} did not arrive within {seconds:g} s",
        {"waiting_for": waiting_for, "timeout_seconds": seconds},
    )


def malformed(error: Exception) -> Refusal:
    """400: bytes that are not HTTP/1.1 (the parser's reason in `details`)."""
    reason = str(error).strip() or type(error).__name__
    return Refusal(400, "malformed_request", "Malformed HTTP request", {"reason": reason[:200]})
