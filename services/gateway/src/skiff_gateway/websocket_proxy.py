"""WebSocket upgrades forwarded to the owning service, messages relayed both ways.

The door has already authenticated, limited and signed the handshake like any request; here
the gateway opens its own WebSocket to the service (with the internal token), accepts the
client's only once the service accepted, then relays frames until either side closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar.types import Receive, Scope, Send
from skiff_kit.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from skiff_gateway.proxy import DROPPED_REQUEST_HEADERS
from skiff_gateway.upstream import Upstream, UpstreamPool

# The client's handshake is the client's: the gateway makes its own to the service.
_HANDSHAKE = frozenset(
    name.encode()
    for name in (
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "origin",
        "user-agent",
    )
)


def _headers(scope: Scope, extra: dict[str, str], client_ip: str) -> list[tuple[str, str]]:
    dropped = DROPPED_REQUEST_HEADERS | _HANDSHAKE | {name.encode() for name in extra}
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope["headers"]
        if name.lower() not in dropped
    ]
    headers += list(extra.items())
    headers.append(("x-forwarded-for", client_ip))
    return headers


def _subprotocols(scope: Scope) -> list[str]:
    offered: Any = scope.get("subprotocols", ())
    return [str(protocol) for protocol in offered]


async def _client_to_service(receive: Receive, service: ClientConnection) -> None:
    while True:
        message: Any = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            await service.send(text if text is not None else message.get("bytes") or b"")
        elif message["type"] == "websocket.disconnect":
            await service.close(code=int(message.get("code", 1000)))
            return


async def _service_to_client(service: ClientConnection, send: Send) -> None:
    try:
        async for data in service:
            message: Any = (
                {"type": "websocket.send", "text": data}
                if isinstance(data, str)
                else {"type": "websocket.send", "bytes": data}
            )
            await send(message)
    except ConnectionClosed:
        pass
    code = service.close_code or 1000
    with contextlib.suppress(Exception):  # the client may be gone already
        await send({"type": "websocket.close", "code": code, "reason": service.close_reason or ""})


async def forward_websocket(
    pool: UpstreamPool,
    upstream: Upstream,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    path: str,
    extra_headers: dict[str, str],
    client_ip: str,
    response_headers: list[tuple[bytes, bytes]],
    **_: Any,
) -> None:
    """Open the service's WebSocket, accept the client's, relay until one of them closes."""
    first: Any = await receive()
    if first["type"] != "websocket.connect":
        return
    query = scope.get("query_string", b"").decode("latin-1")
    scheme = "wss" if upstream.tls else "ws"
    uri = f"{scheme}://{upstream.host_header.decode()}{upstream.prefix}{path}"
    uri += f"?{query}" if query else ""
    service_name = upstream.name
    try:
        service = await connect(
            uri,
            additional_headers=_headers(scope, extra_headers, client_ip),
            subprotocols=[Subprotocol(p) for p in _subprotocols(scope)] or None,
            open_timeout=pool.connect_timeout,
            user_agent_header=None,
            proxy=None,
            compression=None,
            max_size=None,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise BadGateway(
            f"The {service_name} service refused the WebSocket ({status}).",
            details={"service": service_name, "status": status},
        ) from exc
    except TimeoutError as exc:
        raise GatewayTimeout(
            f"The {service_name} service did not answer in time.",
            details={"service": service_name},
        ) from exc
    except (OSError, InvalidHandshake) as exc:
        raise ServiceUnavailable(
            f"The {service_name} service is not reachable.", details={"service": service_name}
        ) from exc
    async with service:
        accept: dict[str, Any] = {"type": "websocket.accept", "headers": response_headers}
        if service.subprotocol:
            accept["subprotocol"] = service.subprotocol
        await send(accept)  # type: ignore[arg-type]
        inbound = asyncio.create_task(_client_to_service(receive, service))
        try:
            await _service_to_client(service, send)
        finally:
            inbound.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await inbound
