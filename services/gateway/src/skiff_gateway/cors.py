"""CORS: the gateway answers preflights itself and lets listed origins read the answers."""

from __future__ import annotations

import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
# What a browser script may read of an answer besides the simple headers.
EXPOSED_HEADERS = (
    b"x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, "
    b"ratelimit, ratelimit-policy, retry-after, content-disposition"
)
_TOKEN_LIST = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")
_VARY = b"origin"
_PREFLIGHT_VARY = b"origin, access-control-request-method, access-control-request-headers"


def parse_origins(value: str) -> frozenset[str]:
    """`"https://a.example, https://b.example"` as a set (trailing slashes dropped)."""
    return frozenset(part.strip().rstrip("/") for part in value.split(",") if part.strip())


class Cors:
    """Adds CORS headers for allowed origins; `*` allows any origin, without credentials."""

    def __init__(self, app: ASGIApp, *, origins: frozenset[str], max_age: int) -> None:
        self.app = app
        self.origins = origins - {"*"}
        self.any_origin = "*" in origins
        self.max_age = b"%d" % max_age

    def _allowed(self, origin: bytes) -> list[tuple[bytes, bytes]] | None:
        """The allow headers for `origin`, or None when it may not read our answers."""
        if origin.decode("latin-1") in self.origins:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
            ]
        if self.any_origin:
            return [(b"access-control-allow-origin", b"*")]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        origin = requested = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                requested = value
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self._allowed(origin)
        if scope.get("method") == "OPTIONS" and requested is not None:
            await self._preflight(scope, send, allowed)
            return
        if allowed is None:
            await self.app(scope, receive, send)
            return
        extra = [*allowed, (b"access-control-expose-headers", EXPOSED_HEADERS), (b"vary", _VARY)]

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", ())
                    if not k.lower().startswith(b"access-control-")
                ]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_cors)

    async def _preflight(
        self, scope: Scope, send: Send, allowed: list[tuple[bytes, bytes]] | None
    ) -> None:
        """204 with what the origin may send; without allow headers for other origins."""
        headers = [(b"vary", _PREFLIGHT_VARY), (b"content-length", b"0")]
        if allowed is not None:
            headers += allowed
            headers += [
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-max-age", self.max_age),
            ]
            for name, value in scope["headers"]:
                if name == b"access-control-request-headers" and _TOKEN_LIST.fullmatch(value):
                    headers.append((b"access-control-allow-headers", value))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
