"""Per-request context: the `X-Request-Id` (echoed or made), bound in logs, and one access line."""

from __future__ import annotations

import re
import time
from typing import Any, cast

import structlog
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from skiff_contracts.ids import new_id

REQUEST_ID_HEADER = "x-request-id"
_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
PROBE_PATHS = frozenset({"/health", "/ready"})

_access_log = structlog.stdlib.get_logger("skiff.access")


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
        request_id = _incoming_request_id(request.scope) or new_id("req")
        state["request_id"] = request_id
    return request_id


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
        request_id = _incoming_request_id(scope) or new_id("req")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = int(cast("dict[str, Any]", message).get("status", 101))
                message = _with_request_id(message, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            self._log_access(scope, state, status, started)

    @staticmethod
    def _log_access(scope: Scope, state: dict[str, Any], status: int, started: float) -> None:
        path = scope.get("path", "")
        fields: dict[str, Any] = {
            "method": scope.get("method", "WS"),
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if trace_id := state.get("trace_id"):
            fields["trace_id"] = trace_id
        if path in PROBE_PATHS and status < 400:
            _access_log.debug("request", **fields)
        else:
            _access_log.info("request", **fields)
