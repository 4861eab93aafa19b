"""`Idempotency-Key` on POST: the same key and request answer the first answer again.

Only a request that carries the header comes here; every other one is streamed as before.
Its body is read whole (to fingerprint it), the key is claimed in the shared store, the
request is forwarded, and its answer is kept while it streams to the client. An answer the
request could be retried after (5xx, 429, a broken one) releases the key instead.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send
from skiff_kit.internal_token import Principal

from skiff_gateway.idempotency.answers import Capture, replay
from skiff_gateway.idempotency.errors import InvalidIdempotencyKey
from skiff_gateway.idempotency.keys import CallerKey
from skiff_gateway.idempotency.store import IdempotencyStore, Record
from skiff_gateway.proxy import PayloadTooLarge, RawHeaders
from skiff_gateway.routing import is_anonymous
from skiff_gateway.upstream import Upstream, UpstreamPool

IDEMPOTENCY_HEADER = "idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class Forwarder(Protocol):
    """The proxy's `forward` (and `forward_websocket`): sends a request on, streams back."""

    async def __call__(
        self,
        pool: UpstreamPool,
        upstream: Upstream,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        path: str,
        extra_headers: dict[str, str],
        client_ip: str,
        response_headers: RawHeaders,
        max_body: int,
        read_timeout: float,
    ) -> None: ...


class Idempotency:
    """Runs keyed POST requests at most once per (caller, key) while their record lasts."""

    def __init__(self, store: IdempotencyStore, *, max_body: int, max_answer: int) -> None:
        self.store = store
        self.max_body = max_body
        self.max_answer = max_answer

    @staticmethod
    def applies(scope: Scope, path: str, principal: Principal) -> bool:
        """A POST to the API by a known caller: anonymous requests (login, register) share
        no scope a key could be kept in safely, so their key is ignored; so is it on an
        anonymous route (register, login...) whatever credentials come along: a login answer
        must never come from a cache."""
        return (
            scope["type"] == ScopeType.HTTP
            and scope.get("method") == "POST"
            and path.startswith("/api/v1/")
            and principal.via != "anonymous"
            and not is_anonymous(path)
        )

    def guarded(self, forward: Forwarder, key: str, principal: Principal) -> Forwarder:
        """`forward`, made to run the request once for `key`: the same call replays after.

        The door wraps its forwarder only for a request with the header, so every other one
        pays nothing for this.
        """

        async def once(
            pool: UpstreamPool,
            upstream: Upstream,
            scope: Scope,
            receive: Receive,
            send: Send,
            *,
            path: str,
            extra_headers: dict[str, str],
            client_ip: str,
            response_headers: RawHeaders,
            max_body: int,
            read_timeout: float,
        ) -> None:
            if not _VALID_KEY.fullmatch(key):
                raise InvalidIdempotencyKey
            body = await _read_body(receive, min(max_body, self.max_body))
            if body is None:
                return  # the client hung up: nothing was claimed, nobody to answer
            caller_key = CallerKey(principal, key)
            fingerprint = caller_key.fingerprint(scope, path, body)
            claimed = await self.store.claim(caller_key.record_key, fingerprint)
            if isinstance(claimed, Record):
                await replay(send, claimed, caller_key, response_headers)
                return
            capture = Capture(
                self.store, claimed, caller_key, send, response_headers, self.max_answer
            )
            try:
                await forward(
                    pool,
                    upstream,
                    scope,
                    _replaying(body, receive),
                    capture.send,
                    path=path,
                    extra_headers=extra_headers,
                    client_ip=client_ip,
                    response_headers=response_headers,
                    max_body=max_body,
                    read_timeout=read_timeout,
                )
            finally:
                if not capture.settled:  # a gateway error, a broken answer, a cancelled request
                    await self.store.release(claimed)

        return once


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body (413 past `limit`); None if the client hung up."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"Requests with an Idempotency-Key are limited to {limit} bytes.",
                details={"max_bytes": limit},
            )
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def buffered() -> Any:
        return pending.pop() if pending else await receive()

    return buffered
