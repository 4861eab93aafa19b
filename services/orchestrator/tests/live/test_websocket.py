"""A session's WebSocket: exec, stdin and cancel in; acks, the session's events and errors out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from orchestrator_support import SESSIONS, Caller, member, viewer
from sandbox_fakes import FakeRunner
from skiff_testing.bus import eventually
from skiff_testing.services import GatewaySigner


def ws_path(session: dict[str, Any]) -> str:
    return f"{SESSIONS}/{session['id']}/ws"


async def next_of(
    ws: AsyncWebSocketSession, wanted: str, task_id: str | None = None
) -> dict[str, Any]:
    """The next message of type `wanted` (for `task_id`), skipping heartbeats and others."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=10)
        if message["type"] != wanted:
            continue
        if (
            task_id is None
            or message.get("task_id") == task_id
            or (message.get("data", {}).get("task_id") == task_id)
        ):
            return message


async def test_exec_is_acknowledged_and_its_events_follow(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "echo hi", "env": {"A": "b"}})
        ack = await next_of(ws, "ack")
        task_id = ack["task_id"]
        output = await next_of(ws, "output", task_id)
        status = await next_of(ws, "status", task_id)
        while status["data"]["status"] == "running":
            status = await next_of(ws, "status", task_id)
        await eventually(_touched(runner, session["id"]), what="the runner touched")

    assert task_id.startswith("tsk_")
    assert output["data"]["data"] == "hi\n"
    assert isinstance(output["id"], int)
    assert status["data"]["status"] == "succeeded"
    assert runner.execs[0].env == {"A": "b"}
    assert (await alice.get(f"/api/v1/tasks/{task_id}")).json()["command"] == "echo hi"


async def test_stdin_goes_to_the_last_task_and_eof_ends_it(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "cat"})
        task_id = (await next_of(ws, "ack"))["task_id"]
        await ws.send_json({"type": "stdin", "data": "typed\n"})
        echoed = await next_of(ws, "output", task_id)
        await ws.send_json({"type": "stdin", "task_id": task_id, "eof": True})
        final = await next_of(ws, "status", task_id)
        while final["data"]["status"] == "running":
            final = await next_of(ws, "status", task_id)

    assert echoed["data"]["data"] == "typed\n"
    assert final["data"]["status"] == "succeeded"


async def test_cancel_stops_the_running_task(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "sleep"})
        task_id = (await next_of(ws, "ack"))["task_id"]
        await ws.send_json({"type": "cancel"})
        final = await next_of(ws, "status", task_id)
        while final["data"]["status"] == "running":
            final = await next_of(ws, "status", task_id)

    assert final["data"]["status"] == "cancelled"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "dance"}, "invalid_message"),
        ({"type": "exec"}, "invalid_message"),
        ({"type": "exec", "command": " "}, "validation_error"),
        ({"type": "stdin", "data": "x"}, "bad_request"),  # no task yet
        ({"type": "cancel", "task_id": "tsk_nope"}, "task_not_found"),
    ],
)
async def test_bad_messages_get_an_error_in_the_api_shape_and_the_socket_stays(
    alice: Caller, runner: FakeRunner, message: dict[str, Any], code: str
) -> None:
    session = await alice.running_session()

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json(message)
        error = await next_of(ws, "error")
        await ws.send_json({"type": "exec", "command": "echo still here"})
        ack = await next_of(ws, "ack")

    assert error["code"] == code
    assert set(error) == {"type", "error", "code", "details", "request_id"}
    assert ack["task_id"].startswith("tsk_")


async def test_a_viewer_watches_but_cannot_exec(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    watcher = Caller(http, gateway_signer, viewer(alice.org))

    async with aconnect_ws(ws_path(session), http, headers=watcher.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "echo"})
        error = await next_of(ws, "error")

    assert error["code"] == "role_required"
    assert runner.execs == []


async def test_another_organizations_session_closes_with_4404(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    mallory = Caller(http, gateway_signer, member())

    async with aconnect_ws(ws_path(session), http, headers=mallory.headers()) as ws:
        error = await ws.receive_json(timeout=10)
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=10)

    assert error["code"] == "session_not_found"
    assert closed.value.code == 4404


async def test_without_a_token_the_socket_closes_with_4401(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient
) -> None:
    session = await alice.running_session()

    async with aconnect_ws(ws_path(session), http) as ws:
        error = await ws.receive_json(timeout=10)
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=10)

    assert error["code"] == "missing_internal_token"
    assert closed.value.code == 4401


def _touched(runner: FakeRunner, session_id: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return session_id in runner.touches

    return check


async def test_the_ack_comes_before_any_event_of_its_task(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    seen: list[dict[str, Any]] = []

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "count 2"})
        while not (seen and seen[-1].get("data", {}).get("status") == "succeeded"):
            seen.append(await ws.receive_json(timeout=10))

    task_id = next(m["task_id"] for m in seen if m["type"] == "ack")
    about_it = [m for m in seen if task_id in (m.get("task_id"), m.get("data", {}).get("task_id"))]
    assert [m["type"] for m in about_it] == ["ack", "status", "output", "output", "status"]


async def test_an_exec_the_runner_cannot_take_is_acked_then_reported(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    await runner.close()

    async with aconnect_ws(ws_path(session), alice.http, headers=alice.headers()) as ws:
        await ws.send_json({"type": "exec", "command": "echo"})
        ack = await next_of(ws, "ack")
        error = await next_of(ws, "error")

    assert error["code"] == "runner_unavailable"
    assert error["details"]["task_id"] == ack["task_id"]
    task = (await alice.get(f"/api/v1/tasks/{ack['task_id']}")).json()
    assert task["status"] == "failed"
