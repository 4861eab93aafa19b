"""Connections to the services: kept alive and reused, dropped when they cannot be."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from gateway_helpers import AccessTokens, StartGateway, serving
from litestar.types import Receive, Scope, Send


class Peer:
    """Answers with the port of the gateway's connection; `?close=1` ends it after answering."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        client: Any = scope["client"]
        headers = [(b"content-type", b"application/json")]
        if b"close=1" in scope["query_string"]:
            headers.append((b"connection", b"close"))
        body = msgspec.json.encode({"port": client[1], "method": scope["method"]})
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def test_a_connection_is_kept_alive_and_reused(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    bearer = {"authorization": f"Bearer {access_tokens.mint()}"}
    async with (
        serving(Peer()) as peer,
        start_gateway(upstreams=json.dumps({"orchestrator": peer})) as gateway,
    ):
        ports = [(await gateway.get("/api/v1/sessions", headers=bearer)).json()["port"]]
        ports.append((await gateway.get("/api/v1/sessions", headers=bearer)).json()["port"])
        closing = (await gateway.get("/api/v1/sessions?close=1", headers=bearer)).json()["port"]
        after = (await gateway.get("/api/v1/sessions", headers=bearer)).json()["port"]

    assert ports[0] == ports[1] == closing
    assert after != closing  # the service said close: a new connection


async def test_head_answers_carry_no_body_and_do_not_jam_the_connection(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    bearer = {"authorization": f"Bearer {access_tokens.mint()}"}
    async with start_gateway() as gateway:
        head = await gateway.head("/api/v1/sessions", headers=bearer)
        get = await gateway.get("/api/v1/sessions", headers=bearer)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert get.json()["method"] == "GET"
