"""Forward one request to a service and stream both bodies, in the API error shape on failure."""

from __future__ import annotations

from litestar.types import Receive, Scope, Send
from skiff_kit import errors
from skiff_kit.errors import BadGateway, GatewayTimeout, ServiceUnavailable, SkiffError
from skiff_kit.internal_token import INTERNAL_TOKEN_HEADER

from skiff_gateway.upstream import (
    Connection,
    Upstream,
    UpstreamBroken,
    UpstreamPool,
    UpstreamTimeout,
    UpstreamUnreachable,
)

RawHeaders = list[tuple[bytes, bytes]]
_SMALL_BODY = 64 * 1024  # a sized answer up to this is read whole, then answered at once

# Never forwarded: connection-level headers, and credentials the gateway has already consumed.
DROPPED_REQUEST_HEADERS = frozenset(
    name.encode()
    for name in (
        "host",
        "connection",
        "keep-alive",
        "te",
        "trailers",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "expect",
        "proxy-authorization",
        "authorization",
        "x-api-key",
        INTERNAL_TOKEN_HEADER,
        # Set by the gateway from what it saw itself; a client's own values would otherwise
        # arrive first and be believed (a spoofed client address, a trace that skips it).
        "x-forwarded-for",
        "x-forwarded-proto",
        "forwarded",
        "x-request-id",
        "traceparent",
        "tracestate",
    )
)
DROPPED_RESPONSE_HEADERS = frozenset(
    name.encode()
    for name in ("connection", "keep-alive", "transfer-encoding", "upgrade", "server", "date")
)


class ClientGone(Exception):
    """The client hung up while its body was being sent: nobody is left to answer."""


class PayloadTooLarge(errors.PayloadTooLarge):
    """The request body is larger than the gateway accepts."""

    default_message = "The request body is too large."


def _failure(service: str, error: Exception) -> SkiffError:
    """The API error for a service that could not be reached or answered badly."""
    details = {"service": service}
    if isinstance(error, UpstreamUnreachable):
        return ServiceUnavailable(f"The {service} service is not reachable.", details=details)
    if isinstance(error, UpstreamTimeout):
        return GatewayTimeout(f"The {service} service did not answer in time.", details=details)
    return BadGateway(f"The {service} service gave an invalid answer.", details=details)


def public_path(scope: Scope) -> str:
    """The path as the client sent it (a mount strips its prefix from `path`, not `raw_path`)."""
    raw = scope.get("raw_path")
    if not raw:
        return str(scope["path"])
    return raw.decode("latin-1").split("?", 1)[0]


def _request_head(
    scope: Scope, upstream: Upstream, path: str, extra: RawHeaders
) -> tuple[bytes, int | None, bool]:
    """The request line and headers for the service; (head, content length, chunked)."""
    query: bytes = scope.get("query_string", b"")
    target = (upstream.prefix + path).encode("latin-1") + (b"?" + query if query else b"")
    method = str(scope.get("method", "GET")).encode("latin-1")
    lines = [method, b" ", target, b" HTTP/1.1\r\nhost: ", upstream.host_header, b"\r\n"]
    length: int | None = None
    chunked = False
    dropped = DROPPED_REQUEST_HEADERS
    names = {name for name, _ in extra}
    if not names <= dropped:
        dropped = dropped | names
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered in dropped:
            if lowered == b"content-length":
                length = int(value) if value.isdigit() else None
            elif lowered == b"transfer-encoding":
                chunked = True
            continue
        lines += (name, b": ", value, b"\r\n")
    for name, value in extra:
        lines += (name, b": ", value, b"\r\n")
    if chunked:
        lines.append(b"transfer-encoding: chunked\r\n")
        length = None
    elif length is not None:
        lines += (b"content-length: ", b"%d" % length, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines), length, chunked


async def _send_body(
    connection: Connection, receive: Receive, *, chunked: bool, max_body: int, read_timeout: float
) -> bool:
    """Stream the client's body to the service; False if the service answered before its end."""
    sent = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
        sent += len(chunk)
        if sent > max_body:
            raise PayloadTooLarge(details={"max_bytes": max_body})
        if chunk:
            connection.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await connection.drain(read_timeout)
        if connection.head_done or connection.error is not None:
            return False
        if not message.get("more_body", False):
            if chunked:
                connection.write(b"0\r\n\r\n")
            return True


async def _exchange(
    pool: UpstreamPool,
    upstream: Upstream,
    head: bytes,
    receive: Receive,
    *,
    has_body: bool,
    chunked: bool,
    max_body: int,
    seconds: float,
) -> Connection:
    """Send the request; the connection once the answer's head is in (`seconds` per wait)."""
    for attempt in (1, 2):
        connection, reused = await pool.acquire(upstream)
        try:
            connection.write(head)
            if has_body:
                finished = await _send_body(
                    connection,
                    receive,
                    chunked=chunked,
                    max_body=max_body,
                    read_timeout=seconds,
                )
                connection.keep_alive = finished
            await connection.read_head(seconds)
            return connection
        except UpstreamBroken:
            connection.close()
            # A kept-alive connection the service closed meanwhile: safe to retry once, as
            # nothing of a body-less request was lost.
            if not (reused and not has_body and attempt == 1):
                raise
        except BaseException:
            connection.close()
            raise
    raise AssertionError("unreachable")


async def forward(
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
    """Send the request on to the service and stream its answer back unchanged.

    `extra_headers` (and `X-Forwarded-For: client_ip`) go to the service in place of the
    client's headers of those names; `response_headers` are added to its answer.
    """
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra_headers.items()]
    extra.append((b"x-forwarded-for", client_ip.encode("latin-1")))
    extra.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode("latin-1")))
    traceparent = scope["state"].get("traceparent")
    if traceparent and "traceparent" not in extra_headers:  # set by the front when not tracing
        extra.append((b"traceparent", traceparent.encode("latin-1")))
    head, length, chunked = _request_head(scope, upstream, path, extra)
    has_body = chunked or bool(length)
    try:
        connection = await _exchange(
            pool,
            upstream,
            head,
            receive,
            has_body=has_body,
            chunked=chunked,
            max_body=max_body,
            seconds=read_timeout,
        )
    except ClientGone:
        return  # `_exchange` closed the service's connection; there is no one to answer
    except (UpstreamUnreachable, UpstreamTimeout, UpstreamBroken) as exc:
        raise _failure(upstream.name, exc) from exc
    if scope.get("method") != "HEAD":
        try:
            await connection.read_small(read_timeout, _SMALL_BODY)
        except (UpstreamTimeout, UpstreamBroken) as exc:
            connection.close()
            raise _failure(upstream.name, exc) from exc
    headers = [
        (name.lower(), value)
        for name, value in connection.headers
        if name.lower() not in DROPPED_RESPONSE_HEADERS
    ]
    headers += response_headers
    try:
        await send({"type": "http.response.start", "status": connection.status, "headers": headers})
        if scope.get("method") == "HEAD":
            connection.keep_alive = False  # the parser would wait for the body HEAD has not
        elif connection.complete:
            body = b"".join(connection.chunks)
            connection.chunks.clear()
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        else:
            async for chunk in connection.body(read_timeout):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        if scope.get("method") == "HEAD":
            connection.close()
        else:
            pool.release(connection)
