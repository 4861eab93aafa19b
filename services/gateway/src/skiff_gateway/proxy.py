"""Forward one request to a service and stream both bodies, in the API error shape on failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from litestar.types import Receive, Scope, Send
from skiff_kit.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from skiff_kit.internal_token import INTERNAL_TOKEN_HEADER

# Never forwarded: connection-level headers, and credentials the gateway has already consumed.
DROPPED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "authorization",
        INTERNAL_TOKEN_HEADER,
    }
)
# Set by the gateway from what it saw itself; a client's own values would otherwise arrive
# first and be believed (a spoofed client address, a trace that skips the gateway's span).
REPLACED_REQUEST_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-proto", "forwarded"})
DROPPED_RESPONSE_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "server", "date"}
)


def public_path(scope: Scope) -> str:
    """The path as the client sent it (a mount strips its prefix from `path`, not `raw_path`)."""
    raw = scope.get("raw_path")
    if not raw:
        return str(scope["path"])
    return raw.decode("latin-1").split("?", 1)[0]


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body: bytes = message.get("body", b"")  # type: ignore[assignment]
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def forward(
    client: httpx.AsyncClient,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    url: str,
    service: str,
    extra_headers: dict[str, str],
) -> None:
    """Send the request on to `url` (query string added) and stream the answer back unchanged.

    `extra_headers` replace the client's headers of the same names.
    """
    replaced = REPLACED_REQUEST_HEADERS | {name.lower() for name in extra_headers}
    dropped = DROPPED_REQUEST_HEADERS | replaced
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope["headers"]
        if name.decode("latin-1").lower() not in dropped
    ]
    headers += list(extra_headers.items())
    headers.append(("x-forwarded-for", client_host(scope)))
    headers.append(("x-forwarded-proto", str(scope.get("scheme", "http"))))
    query = scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    request = client.build_request(
        str(scope.get("method", "GET")), url, headers=headers, content=_request_body(receive)
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.ConnectError as exc:
        raise ServiceUnavailable(
            f"The {service} service is not reachable.", details={"service": service}
        ) from exc
    except httpx.TimeoutException as exc:
        raise GatewayTimeout(
            f"The {service} service did not answer in time.", details={"service": service}
        ) from exc
    except httpx.HTTPError as exc:
        raise BadGateway(
            f"The {service} service gave an invalid answer.", details={"service": service}
        ) from exc
    try:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (name, value)
                    for name, value in response.headers.raw
                    if name.decode("latin-1").lower() not in DROPPED_RESPONSE_HEADERS
                ],
            }
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await response.aclose()
