"""Per-request context: the `X-Request-Id` (echoed or made), bound in logs, and one access line.

It wraps every request of every service, so it is kept cheap (profiled with py-spy): request
ids come from the `random` module (no system call, no lock), and the access line is built
only when its level is enabled (a dropped structlog call still costs tens of microseconds).
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any, cast

import msgspec
import structlog
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from skiff_kit.errors import ErrorBody

REQUEST_ID_HEADER = "x-request-id"
_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
PROBE_PATHS = frozenset({"/health", "/ready"})
RECEIVED_AT = "received_at"  # scope["state"] key: wall-clock time the request reached the app

_ACCESS_LOGGER = "skiff.access"
_access_log = structlog.stdlib.get_logger(_ACCESS_LOGGER)
_log_internal = structlog.stdlib.get_logger("skiff.errors")
# The stdlib logger structlog writes through: asked first whether a line would be kept at all.
_access_level = logging.getLogger(_ACCESS_LOGGER)


def new_request_id() -> str:
    """`req_` + milliseconds (12 hex digits, so ids sort by time) + 64 random bits.

    Not `skiff_contracts.new_id`: that one reads the OS's random source under a lock, which
    costs more than the rest of this middleware. A request id only needs to be unique enough
    to find a request's lines; `random` is re-seeded in a forked worker, so workers differ.
    """
    return f"req_{time.time_ns() // 1_000_000:012x}{random.getrandbits(64):016x}"


def sane_request_id(value: str | None) -> str | None:
    """`value` if it is a usable request id (≤128 chars of [A-Za-z0-9._-]), else None."""
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == _HEADER_BYTES:
            return sane_request_id(value.decode("latin-1"))
    return None


def request_id_of(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The request id of this request (made and remembered here if the middleware did not run)."""
    state = request.scope.setdefault("state", {})
    request_id = state.get("request_id")
    if not isinstance(request_id, str):
        request_id = _incoming_request_id(request.scope) or new_request_id()
        state["request_id"] = request_id
    return request_id


async def send_internal_error(send: Send, request_id: str) -> None:
    """A 500 `internal_error` in the API's error shape, written as raw ASGI messages."""
    payload = msgspec.json.encode(
        ErrorBody("Internal server error", "internal_error", {}, request_id)
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(payload)),
        (_HEADER_BYTES, request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def _with_request_id(message: Message, request_id: str) -> Message:
    raw = cast("dict[str, Any]", message)
    headers = [(k, v) for k, v in raw.get("headers", ()) if k.lower() != _HEADER_BYTES]
    headers.append((_HEADER_BYTES, request_id.encode()))
    return cast("Message", {**raw, "headers": headers})


class RequestContextMiddleware:
    """Outermost ASGI layer: request id in, request id out, one structured access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # When the head arrived: the internal token is checked against this moment, not the
        # later one its dependency resolves at, after a slow body (skiff_kit.internal_token).
        state[RECEIVED_AT] = time.time()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 0  # until the answer starts
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = int(cast("dict[str, Any]", message).get("status", 101))
                message = _with_request_id(message, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Raised outside the framework's handlers (the gateway's door is raw ASGI): the
            # error shape instead of the server's plain-text 500, where an answer can start.
            if status or scope["type"] == ScopeType.WEBSOCKET:
                raise
            _log_internal.exception("unhandled_exception", path=scope.get("path", ""))
            status = 500
            await send_internal_error(send, request_id)
        finally:
            self._log_access(scope, state, status or 500, started)

    @staticmethod
    def _log_access(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        path = scope.get("path", "")
        quiet = path in PROBE_PATHS and status < 400
        if not _access_level.isEnabledFor(logging.DEBUG if quiet else logging.INFO):
            return
        fields: dict[str, Any] = {
            "method": scope.get("method", "WS"),
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if trace_id := state.get("trace_id"):
            fields["trace_id"] = trace_id
        if quiet:
            _access_log.debug("request", **fields)
        else:
            _access_log.info("request", **fields)
