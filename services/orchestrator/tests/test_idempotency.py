"""Idempotency-Key end to end: the orchestrator records it with what it creates (issue 9)."""

from __future__ import annotations

from typing import Any

import httpx
from orchestrator_support import SESSIONS, Caller, assert_error, member
from sandbox_fakes import FakeRunner
from skiff_testing.services import GatewaySigner


async def _post(caller: Caller, path: str, body: Any, key: str, **params: Any) -> httpx.Response:
    headers = caller.headers(**{"idempotency-key": key})
    return await caller.http.post(path, json=body, headers=headers, params=params)


async def _count_sessions(caller: Caller) -> int:
    return len((await caller.get(SESSIONS)).json()["data"])


async def test_a_session_create_retried_with_its_key_answers_the_same_session(
    alice: Caller, runner: FakeRunner
) -> None:
    first = await _post(alice, SESSIONS, {"metadata": {"job": "1"}}, "create-session-1")
    again = await _post(alice, SESSIONS, {"metadata": {"job": "1"}}, "create-session-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert await _count_sessions(alice) == 1


async def test_the_same_key_with_another_body_is_a_422(alice: Caller, runner: FakeRunner) -> None:
    await _post(alice, SESSIONS, {"metadata": {"job": "1"}}, "create-session-2")

    reused = await _post(alice, SESSIONS, {"metadata": {"job": "2"}}, "create-session-2")

    assert_error(reused, 422, "idempotency_key_reused")
    assert await _count_sessions(alice) == 1


async def test_keys_belong_to_an_organization(
    alice: Caller, http: httpx.AsyncClient, gateway_signer: GatewaySigner, runner: FakeRunner
) -> None:
    bob = Caller(http, gateway_signer, member())
    mine = await _post(alice, SESSIONS, None, "shared-key")
    theirs = await _post(bob, SESSIONS, None, "shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


async def test_a_task_retried_with_its_key_runs_once_and_waits_for_the_first(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    path = f"{SESSIONS}/{session['id']}/tasks"

    first = await _post(alice, path, {"command": "count 2"}, "task-1", wait="true")
    again = await _post(alice, path, {"command": "count 2"}, "task-1", wait="true")
    without_wait = await _post(alice, path, {"command": "count 2"}, "task-1")

    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["stdout"] == first.json()["stdout"] != ""
    assert_error(without_wait, 422, "idempotency_key_reused")  # the query is the request too
    assert len(runner.execs) == 1


async def test_a_task_whose_dispatch_failed_is_named_and_never_run_by_a_retry(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    path = f"{SESSIONS}/{session['id']}/tasks"
    await runner.close()

    refused = await _post(alice, path, {"command": "echo hi"}, "task-2")
    again = await _post(alice, path, {"command": "echo hi"}, "task-2")

    body = assert_error(refused, 503, "runner_unavailable")
    assert body["details"]["task_id"].startswith("tsk_")
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["status"]) == (body["details"]["task_id"], "failed")
    assert runner.execs == []


async def test_wait_on_create_answers_once_the_session_runs(
    alice: Caller, runner: FakeRunner
) -> None:
    response = await alice.http.post(
        SESSIONS, json=None, headers=alice.headers(), params={"wait": "true"}
    )

    assert response.status_code == 201
    assert response.json()["status"] == "running"
