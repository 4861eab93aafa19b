"""Shared pieces of the gateway's tests: a real upstream that echoes, servers, access tokens."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import msgspec
import uvicorn
from litestar.testing import AsyncTestClient
from litestar.types import Message, Receive, Scope, Send
from skiff_embedded import free_port
from skiff_kit.internal_token import generate_keypair
from skiff_kit.runner import server_config
from skiff_kit.settings import ServiceSettings

ACCESS_KEY_ID = "a1"

Gateway = AsyncTestClient[Any]
StartGateway = Callable[..., AbstractAsyncContextManager[Gateway]]
"""`start_gateway(**setting_overrides)`: runs another gateway for one test."""


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The API.md error shape `{error, code, details, request_id}`; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "code", "details", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


class Echo:
    """A stand-in service: answers with what it received, as JSON.

    The query asks it to misbehave: `?status=201` answers that status, `?delay=2` waits first,
    `?cookies=2` sets that many cookies, `?chunks=3` streams that many lines (`&hold=1` waits
    for `release` after the first one, `&crash=1` dies after it).
    """

    def __init__(self) -> None:
        self.release = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")  # type: ignore[operator]
            if not message.get("more_body", False):
                break
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        if "delay" in query:
            await asyncio.sleep(float(query["delay"]))
        if "chunks" in query:
            await self._stream(
                send, int(query["chunks"]), hold="hold" in query, crash="crash" in query
            )
            return
        answer = {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        headers = [(b"content-type", b"application/json"), (b"x-upstream", b"echo")]
        headers += [
            (b"set-cookie", f"c{n}=v{n}; Path=/; HttpOnly".encode())
            for n in range(int(query.get("cookies", 0)))
        ]
        status = int(query.get("status", 200))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": msgspec.json.encode(answer)})

    async def _stream(self, send: Send, chunks: int, *, hold: bool, crash: bool) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for n in range(chunks):
            line = f"data: chunk {n}\n\n".encode()
            await send({"type": "http.response.body", "body": line, "more_body": True})
            if hold and n == 0:
                await asyncio.to_thread(self.release.wait, 10)
            if crash:
                raise RuntimeError("the upstream died in the middle of its answer")
        await send({"type": "http.response.body", "body": b""})


class WebSocketEcho:
    """A service's WebSocket: tells what it received, then echoes; `close-4001` closes so."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        seen = {
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        }
        await send({"type": "websocket.send", "text": json.dumps(seen)})
        while True:
            message: Any = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "close-4001":
                await send({"type": "websocket.close", "code": 4001, "reason": "done"})
                return
            await send({**message, "type": "websocket.send"})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def forwarded_headers(echoed: dict[str, Any]) -> dict[str, list[str]]:
    """The headers the upstream received: name → every value (to see duplicates)."""
    headers: dict[str, list[str]] = {}
    for name, value in echoed["headers"]:
        headers.setdefault(name, []).append(value)
    return headers


@asynccontextmanager
async def serving(
    app: Any, port: int | None = None, *, settings: ServiceSettings | None = None
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on `port` (or a free one) in a thread; yields its base URL.

    Served as `skiff_kit.runner` serves every service: the guarded HTTP protocol, with the
    limits of `settings` (a service's defaults when None).
    """
    port = port or free_port()
    # proxy_headers=False as in production (skiff_kit.runner): the peer is the client. No
    # log config or level: uvicorn would change the process's loggers for later tests.
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "log_config": None,
        "log_level": None,
        "timeout_graceful_shutdown": 2,
        "proxy_headers": False,
    }
    config = server_config(app, settings or ServiceSettings(), **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        await asyncio.to_thread(_wait_started, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        if thread.is_alive():  # a server left running would serve (and consume) for later tests
            server.force_exit = True
            await asyncio.to_thread(thread.join, 10)
            raise RuntimeError(f"the server on port {port} did not stop within 10 s")


async def raw_request(base_url: str, target: str) -> tuple[int, bytes]:
    """GET `target` exactly as written (HTTP clients resolve `..` before sending); status, body."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        request = f"GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _wait_started(server: uvicorn.Server) -> None:
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("uvicorn did not start within 10 s")
        time.sleep(0.01)


class AccessTokens:
    """Mints access tokens as identity does (EdDSA, `kid`, iss/aud/sub/org/role/exp)."""

    def __init__(self) -> None:
        self.private_key, self.public_key = generate_keypair()

    def mint(
        self,
        *,
        user_id: str = "usr_ada",
        organization_id: str = "org_ada",
        role: str = "owner",
        expires_in: int = 900,
        key: str | None = None,
        key_id: str = ACCESS_KEY_ID,
        without: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": "skiff-identity",
            "aud": "skiff",
            "sub": user_id,
            "org": organization_id,
            "role": role,
            "iat": now,
            "exp": now + expires_in,
            "typ": "access",
            **claims,
        }
        for name in without:
            del payload[name]
        signing_key = key or self.private_key
        return jwt.encode(payload, signing_key, algorithm="EdDSA", headers={"kid": key_id})
