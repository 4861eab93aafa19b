"""The front of the door: proxied paths skip the framework; errors answer in the API shape.

Every `/api/v1/*` and `/webhooks/*` request (but the gateway's own routes) goes straight to
the door as raw ASGI, inside the kit's request-id middleware, continuing the caller's trace
(a server span when an exporter is set). Errors raised before the answer has started are
written here, with the request's rate-limit headers, so a 401, 404, 413 or 429 looks like
every other error.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from skiff_kit.errors import ErrorBody, SkiffError, TooManyRequests
from skiff_kit.internal_token import Principal, anonymous
from skiff_kit.logging import get_logger
from skiff_kit.telemetry import extract_trace_context

from skiff_gateway.ratelimit import RateLimits, Verdict

Door = Callable[[Scope, Receive, Send], Awaitable[None]]
LIMIT_HEADERS = "ratelimit_headers"  # scope["state"] key: the verdict's headers
_TRACEPARENT = re.compile(rb"00-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-(?P<flags>[0-9a-f]{2})")
_JSON = (b"content-type", b"application/json")
_tracer = trace.get_tracer("skiff.gateway")
_log = get_logger("skiff.gateway")


async def send_error(
    send: Send,
    error: SkiffError,
    request_id: str,
    headers: list[tuple[bytes, bytes]],
    scope: Scope | None = None,
) -> None:
    """Answer `error` as `{error, code, details, request_id}` (a refused WebSocket handshake
    too, where the server can answer one; else the handshake is closed)."""
    body = msgspec.json.encode(
        ErrorBody(
            error=error.message, code=error.code, details=error.details, request_id=request_id
        )
    )
    response_headers = [_JSON, (b"content-length", b"%d" % len(body)), *headers]
    prefix = "http"
    if scope is not None and scope["type"] == ScopeType.WEBSOCKET:
        extensions: Any = scope.get("extensions") or {}
        if "websocket.http.response" not in extensions:
            await send({"type": "websocket.close", "code": 1008, "reason": error.code})
            return
        prefix = "websocket.http"
        response_headers.append((b"x-request-id", request_id.encode()))
    start: Any = {
        "type": f"{prefix}.response.start",
        "status": error.status_code,
        "headers": response_headers,
    }
    await send(start)
    end: Any = {"type": f"{prefix}.response.body", "body": body, "more_body": False}
    await send(end)


async def enforce(
    rate_limits: RateLimits | None,
    scope: Scope,
    principal: Principal,
    *,
    path: str,
    key_limit: int | None = None,
) -> list[tuple[bytes, bytes]]:
    """Spend this request from its buckets: the headers to answer, or `TooManyRequests`."""
    if rate_limits is None:
        return []
    verdict = await rate_limits.check(
        principal,
        principal.client_ip or "unknown",
        path=path,
        method=str(scope.get("method", "GET")),
        key_limit=key_limit,
    )
    return _remember(scope, verdict)


def _remember(scope: Scope, verdict: Verdict) -> list[tuple[bytes, bytes]]:
    headers = verdict.headers()
    scope["state"][LIMIT_HEADERS] = headers
    if verdict.refused is not None:
        raise TooManyRequests(
            "Too many requests: slow down and retry after the time in Retry-After.",
            code="rate_limited",
            details=verdict.details(),
        )
    return headers


def continue_trace(scope: Scope) -> tuple[str, str]:
    """(traceparent for the service, trace id): the client's trace if it sent a valid one."""
    for name, value in scope["headers"]:
        if name == b"traceparent":
            match = _TRACEPARENT.fullmatch(value)
            if match and match["trace"] != b"0" * 32:
                trace_id, flags = match["trace"].decode(), match["flags"].decode()
                break
    else:
        trace_id, flags = f"{random.getrandbits(128):032x}", "01"
    return f"00-{trace_id}-{random.getrandbits(64) or 1:016x}-{flags}", trace_id


class FrontDoor:
    """Sends proxied paths to `door` and everything else to the framework (`app`)."""

    def __init__(
        self,
        door: Door,
        app: ASGIApp,
        *,
        own_paths: frozenset[str],
        rate_limits: RateLimits | None,
        client_address: Callable[[Scope], str],
        tracing: bool = True,
    ) -> None:
        self.tracing = tracing
        self.door = door
        self.app = app
        self.own_paths = own_paths
        self.rate_limits = rate_limits
        self.client_address = client_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind: str = scope["type"]  # lifespan never reaches here; http and websocket do
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith(("/api/v1/", "/webhooks/")) or path in self.own_paths:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope["state"]
        if not self.tracing:
            # No exporter: a span would cost more than the request; the trace still goes on.
            state["traceparent"], state["trace_id"] = continue_trace(scope)
            await self._serve(scope, receive, send, state)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with _tracer.start_as_current_span(
            f"{scope.get('method', 'WS')} gateway",
            context=extract_trace_context(carrier),
            kind=SpanKind.SERVER,
        ) as span:
            state["trace_id"] = format(span.get_span_context().trace_id, "032x")
            await self._serve(scope, receive, send, state)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.door(scope, receive, tracked)
        except SkiffError as error:
            if started:
                raise
            await self._refuse(scope, send, error, state)
        except Exception as error:
            if started:
                raise
            _log.error("unhandled_exception", path=scope["path"], exc_info=error)
            await send_error(send, SkiffError(), str(state.get("request_id", "")), [], scope)

    async def _refuse(
        self, scope: Scope, send: Send, error: SkiffError, state: dict[str, Any]
    ) -> None:
        """Answer an error. A request refused before its limits were checked (no route, bad
        credentials...) is spent from its address's anonymous bucket, so probing is limited."""
        request_id = str(state.get("request_id", ""))
        refused_early = LIMIT_HEADERS not in state and 400 <= error.status_code < 500
        if refused_early and self.rate_limits is not None:
            principal = anonymous(request_id)
            principal = msgspec.structs.replace(principal, client_ip=self.client_address(scope))
            try:
                await enforce(self.rate_limits, scope, principal, path=str(scope["path"]))
            except TooManyRequests as refused:
                error = refused
        if error.status_code >= 500:
            _log.error("request_failed", code=error.code, error=error.message)
        headers: list[tuple[bytes, bytes]] = state.get(LIMIT_HEADERS, [])
        if error.headers:  # the error's own (a 409's Retry-After), as the kit's handlers send them
            own = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()
            ]
            headers = [*headers, *own]
        await send_error(send, error, request_id, headers, scope)
