"""Shared pieces of the orchestrator's tests: serving the app, principals, arranging sessions."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from nats.aio.client import Client as NATS
from skiff_contracts import new_id
from skiff_embedded import free_port
from skiff_kit.internal_token import Principal
from skiff_testing import bus
from skiff_testing.bus import eventually
from skiff_testing.services import GatewaySigner

SESSIONS = "/api/v1/sessions"


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in a thread (real HTTP: SSE and WebSockets); its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level=None,
        timeout_graceful_shutdown=2,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"orchestrator-{port}", daemon=True)
    thread.start()
    try:
        await asyncio.to_thread(_wait_started, server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        if thread.is_alive():  # a server left running would serve (and consume) for later tests
            server.force_exit = True
            await asyncio.to_thread(thread.join, 10)
            raise RuntimeError(f"the orchestrator on port {port} did not stop within 10 s")


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the orchestrator did not start")
        time.sleep(0.01)


class Caller:
    """Requests as one principal through the (played) gateway."""

    def __init__(self, http: httpx.AsyncClient, signer: GatewaySigner, principal: Principal):
        self.http = http
        self.signer = signer
        self.principal = principal
        self.org = principal.organization_id

    def headers(self, **extra: str) -> dict[str, str]:
        return {**self.signer.headers(self.principal), **extra}

    async def get(
        self, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.http.get(path, headers=self.headers(**(headers or {})), **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.http.post(path, json=json, headers=self.headers(), **kwargs)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(path, headers=self.headers())

    async def running_session(self, **body: Any) -> dict[str, Any]:
        """A new session, once the (fake) runner started it."""
        response = await self.post(SESSIONS, json=body or None)
        assert response.status_code == 201, response.text
        session_id = response.json()["id"]
        return await self.session_in(session_id, "running")

    async def session_in(self, session_id: str, status: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def reached() -> bool:
            found.update((await self.get(f"{SESSIONS}/{session_id}")).json())
            return found.get("status") == status

        await eventually(reached, what=f"session {status}")
        return found

    async def task_in(self, task_id: str, *statuses: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def reached() -> bool:
            found.update((await self.get(f"/api/v1/tasks/{task_id}")).json())
            return found.get("status") in statuses

        await eventually(reached, what=f"task in {statuses}")
        return found


def member(org: str | None = None) -> Principal:
    return GatewaySigner.user(org or new_id("org"), new_id("usr"), role="member")


def viewer(org: str) -> Principal:
    return GatewaySigner.user(org, new_id("usr"), role="viewer")


def read_only_key(org: str) -> Principal:
    return Principal(
        organization_id=org, api_key_id=new_id("key"), via="api_key", scopes=("sessions:read",)
    )


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The API.md error shape with the expected status and code; the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "code", "details", "request_id"}
    assert body["code"] == code, body
    return body


async def sandbox_consumed(nc: NATS) -> bool:
    """The orchestrator applied every event on SANDBOX."""
    return await bus.consumed_everything(nc.jetstream(), "orchestrator--sandbox", "SANDBOX")


async def billing_consumed(nc: NATS) -> bool:
    return await bus.consumed_everything(nc.jetstream(), "orchestrator--billing", "BILLING")


async def read_sse(
    caller: Caller,
    path: str,
    *,
    stop_after: int | None = None,
    until: str = "end",
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Events of an SSE stream ({event, id, data}) until `until` or `stop_after` events; the
    connection is then closed (a cut, as a client going away)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with caller.http.stream(
        "GET", path, headers=caller.headers(**(headers or {})), params=params
    ) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line == "":
                if current:
                    events.append(current)
                    if current.get("event") == until or len(events) == stop_after:
                        return events
                current = {}
                continue
            name, _, value = line.partition(": ")
            if name == "data":
                current["data"] = json.loads(value)
            elif name == "id":
                current["id"] = int(value)
            elif name == "event":
                current["event"] = value
    return events
