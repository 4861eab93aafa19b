"""WebSocket upgrades go to the owning service as the caller the gateway vouches for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from gateway_helpers import AccessTokens, WebSocketEcho, serving
from skiff_embedded import free_port
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.internal_token import InternalTokenVerifier
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


@pytest.fixture
def ws_gateway(
    gateway_settings: Callable[..., GatewaySettings],
) -> Callable[..., Any]:
    def start(upstream: str) -> Any:
        return serving(create(gateway_settings(upstreams=json.dumps({"orchestrator": upstream}))))

    return start


async def test_a_websocket_is_relayed_both_ways_as_the_vouched_caller(
    ws_gateway: Callable[..., Any],
    access_tokens: AccessTokens,
    internal_verifier: InternalTokenVerifier,
) -> None:
    token = access_tokens.mint(user_id="usr_ws")
    async with serving(WebSocketEcho()) as service, ws_gateway(service) as gateway:
        url = gateway.replace("http", "ws") + "/api/v1/sessions/ses_1/ws?tail=10"
        async with connect(url, additional_headers={"authorization": f"Bearer {token}"}) as ws:
            seen = json.loads(await ws.recv())
            await ws.send("hello")
            text = await ws.recv()
            await ws.send(b"\x00\x01")
            data = await ws.recv()

    assert (seen["path"], seen["query"]) == ("/api/v1/sessions/ses_1/ws", "tail=10")
    assert "authorization" not in seen["headers"]
    principal = internal_verifier.verify(seen["headers"]["x-skiff-internal-token"])
    assert (principal.user_id, principal.via) == ("usr_ws", "session")
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert (text, data) == ("hello", b"\x00\x01")


async def test_the_services_close_code_reaches_the_client(
    ws_gateway: Callable[..., Any], access_tokens: AccessTokens
) -> None:
    headers = {"authorization": f"Bearer {access_tokens.mint()}"}
    async with serving(WebSocketEcho()) as service, ws_gateway(service) as gateway:
        url = gateway.replace("http", "ws") + "/api/v1/sessions/ses_1/ws"
        async with connect(url, additional_headers=headers) as ws:
            await ws.recv()
            await ws.send("close-4001")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


async def test_a_websocket_without_credentials_is_refused_in_the_error_shape(
    ws_gateway: Callable[..., Any],
) -> None:
    async with serving(WebSocketEcho()) as service, ws_gateway(service) as gateway:
        url = gateway.replace("http", "ws") + "/api/v1/sessions/ses_1/ws"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass

    response = refused.value.response
    assert response.status_code == 401
    assert json.loads(response.body)["code"] == "authentication_required"
    assert "x-ratelimit-limit" in response.headers


async def test_a_websocket_to_a_service_that_is_down_is_503(
    ws_gateway: Callable[..., Any], access_tokens: AccessTokens
) -> None:
    headers = {"authorization": f"Bearer {access_tokens.mint()}"}
    async with ws_gateway(f"http://127.0.0.1:{free_port()}") as gateway:
        url = gateway.replace("http", "ws") + "/api/v1/sessions/ses_1/ws"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers):
                pass

    assert refused.value.response.status_code == 503
    assert json.loads(refused.value.response.body)["code"] == "service_unavailable"
