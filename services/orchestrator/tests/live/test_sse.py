"""SSE: a task's stream in order, resumed without gap or repeat, ended, rebuilt from its row."""

from __future__ import annotations

import asyncio
from typing import Any

from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller, assert_error, member, read_sse
from sandbox_fakes import FakeRunner
from skiff_testing.bus import eventually
from skiff_testing.services import GatewaySigner

TASKS = "/api/v1/tasks"


async def _task(alice: Caller, session: dict[str, Any], command: str) -> str:
    response = await alice.post(f"{SESSIONS}/{session['id']}/tasks", json={"command": command})
    assert response.status_code == 202
    return str(response.json()["id"])


async def test_a_task_stream_sends_status_output_in_order_then_end(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "count 3")

    events = await read_sse(alice, f"{TASKS}/{task_id}/stream")

    assert [e["event"] for e in events] == ["status", "output", "output", "output", "status", "end"]
    assert events[0]["data"]["status"] == "running"
    assert [e["data"]["seq"] for e in events[1:4]] == [1, 2, 3]
    assert [e["data"]["data"] for e in events[1:4]] == ["line 1\n", "line 2\n", "line 3\n"]
    assert events[4]["data"]["status"] == "succeeded"
    assert events[4]["data"]["exit_code"] == 0
    assert events[5]["data"] == {"task_id": task_id, "status": "succeeded"}
    ids = [e["id"] for e in events[:5]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


async def test_last_event_id_resumes_right_after_the_cut(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "count 6")
    whole = await read_sse(alice, f"{TASKS}/{task_id}/stream")

    first = await read_sse(alice, f"{TASKS}/{task_id}/stream", stop_after=3)
    rest = await read_sse(
        alice, f"{TASKS}/{task_id}/stream", headers={"Last-Event-ID": str(first[-1]["id"])}
    )
    by_query = await read_sse(
        alice, f"{TASKS}/{task_id}/stream", params={"last_event_id": str(first[1]["id"])}
    )

    assert first + rest == whole
    assert first[:2] + by_query == whole


async def test_a_stream_cut_while_the_task_runs_resumes_with_what_came_meanwhile(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "cat")
    stdin = f"{TASKS}/{task_id}"
    process = runner.processes[task_id]

    process.stdin.put_nowait("one\n")
    first = await read_sse(alice, f"{stdin}/stream", stop_after=2)  # running, "one"
    process.stdin.put_nowait("two\n")  # while nobody listens
    process.stdin.put_nowait(None)
    rest = await read_sse(alice, f"{stdin}/stream", headers={"Last-Event-ID": str(first[-1]["id"])})

    assert [e["data"].get("data") for e in first + rest if e["event"] == "output"] == [
        "one\n",
        "two\n",
    ]
    assert [e["event"] for e in rest] == ["output", "status", "end"]


async def test_a_resume_after_the_final_status_only_ends(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "echo done")
    whole = await read_sse(alice, f"{TASKS}/{task_id}/stream")
    await alice.task_in(task_id, "succeeded")

    rest = await read_sse(
        alice, f"{TASKS}/{task_id}/stream", headers={"Last-Event-ID": str(whole[-2]["id"])}
    )

    assert rest == [{"event": "end", "data": {"task_id": task_id, "status": "succeeded"}}]


async def test_a_finished_task_no_longer_on_live_is_rebuilt_from_its_row(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "fail")
    await alice.task_in(task_id, "failed")
    await nc.jetstream().purge_stream("LIVE", subject=f"live.{session['id']}.{task_id}")

    events = await read_sse(alice, f"{TASKS}/{task_id}/stream")

    assert [e["event"] for e in events] == ["output", "status", "end"]
    assert events[0]["data"]["stream"] == "stderr"
    assert events[0]["data"]["data"] == "boom\n"
    assert (events[1]["data"]["status"], events[1]["data"]["exit_code"]) == ("failed", 1)
    assert all("id" not in e for e in events)


async def test_an_open_stream_has_heartbeats_keeps_the_session_alive_and_ends_on_cancel(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "sleep")

    beats = await read_sse(alice, f"{TASKS}/{task_id}/stream", until="heartbeat")
    assert beats[-1]["event"] == "heartbeat"
    await eventually(lambda: _touched(runner, session["id"]), what="the runner touched")
    await alice.post(f"{TASKS}/{task_id}/cancel")
    events = await read_sse(alice, f"{TASKS}/{task_id}/stream")
    assert [e["event"] for e in events if e["event"] != "heartbeat"][-2:] == ["status", "end"]
    assert events[-1]["data"]["status"] == "cancelled"


async def test_the_session_stream_carries_its_status_and_its_tasks_and_ends_with_it(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "echo hi")
    await alice.task_in(task_id, "succeeded")
    await alice.delete(f"{SESSIONS}/{session['id']}")
    await alice.session_in(session["id"], "stopped")

    events = await read_sse(alice, f"{SESSIONS}/{session['id']}/events")

    meaningful = [
        (e["event"], e["data"].get("task_id"), e["data"].get("status") or e["data"].get("data"))
        for e in events
        if e["event"] != "heartbeat"
    ]
    assert meaningful == [
        ("status", None, "starting"),
        ("status", task_id, "running"),
        ("output", task_id, "hi\n"),
        ("status", task_id, "succeeded"),
        ("status", None, "stopping"),
        ("end", None, "stopped"),
    ]


async def test_a_bad_last_event_id_answers_400(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    task_id = await _task(alice, session, "echo")

    # Not a number, a non-ASCII digit, and a sequence past what JetStream can start after.
    for bad in ("abc", "\u00b2", "9999999999999999999"):
        response = await alice.get(f"{TASKS}/{task_id}/stream", params={"last_event_id": bad})
        assert_error(response, 400, "validation_error")


async def _touched(runner: FakeRunner, session_id: str) -> bool:
    return session_id in runner.touches


async def test_a_task_ended_without_a_final_live_status_ends_its_stream_at_once(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling, runner: FakeRunner
) -> None:
    """A task failed by the orchestrator (its session stopped) has no final LIVE status: its
    stream must not wait for a heartbeat (30 s here) to say so."""
    async with start_orchestrator(stream_heartbeat_seconds=30) as http:
        alice = Caller(http, gateway_signer, member())
        session = await alice.running_session()
        task_id = await _task(alice, session, "sleep")
        await alice.task_in(task_id, "running")
        assert (await alice.delete(f"{SESSIONS}/{session['id']}")).status_code == 202
        await alice.task_in(task_id, "failed")

        events = await asyncio.wait_for(read_sse(alice, f"{TASKS}/{task_id}/stream"), 10)

    assert [e["event"] for e in events][-2:] == ["status", "end"]
    assert events[-2]["data"]["status"] == "failed"
