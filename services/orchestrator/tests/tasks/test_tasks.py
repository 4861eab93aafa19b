"""Running commands in a session: queue, hand over, wait, list, show, cancel."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller, assert_error, member, viewer
from sandbox_fakes import FakeRunner
from skiff_contracts.events.orchestrator import TaskRequested
from skiff_testing.bus import stream_envelopes
from skiff_testing.services import GatewaySigner

TASKS = "/api/v1/tasks"


def tasks_of(session: dict[str, Any]) -> str:
    return f"{SESSIONS}/{session['id']}/tasks"


async def test_a_task_is_queued_handed_to_the_runner_and_recorded_when_done(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()
    body = {"command": "echo hello", "env": {"X": "1"}, "cwd": "src", "timeout_seconds": 30}

    response = await alice.post(tasks_of(session), json=body)

    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["id"].startswith("tsk_")
    sent = runner.execs[0]
    assert (sent.task_id, sent.command, sent.env, sent.cwd, sent.timeout_seconds) == (
        queued["id"],
        "echo hello",
        {"X": "1"},
        "src",
        30,
    )
    done = await alice.task_in(queued["id"], "succeeded")
    assert (done["exit_code"], done["stdout"], done["stderr"]) == (0, "hello\n", "")
    assert done["duration_ms"] == 7
    assert done["finished_at"] is not None
    requested = [
        e.payload(TaskRequested)
        for e in await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")
        if e.type == TaskRequested.event_type
    ]
    assert [(r.task_id, r.command) for r in requested] == [(queued["id"], "echo hello")]


async def test_wait_answers_with_the_result(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()

    ok = await alice.post(tasks_of(session), json={"command": "count 3"}, params={"wait": "true"})
    failed = await alice.post(tasks_of(session), json={"command": "fail"}, params={"wait": True})

    assert ok.status_code == 200, ok.text
    assert {k: ok.json()[k] for k in ("status", "exit_code", "stdout", "stderr", "truncated")} == {
        "status": "succeeded",
        "exit_code": 0,
        "stdout": "line 1\nline 2\nline 3\n",
        "stderr": "",
        "truncated": False,
    }
    assert ok.json()["duration_ms"] == 7
    assert failed.status_code == 200
    assert (failed.json()["status"], failed.json()["exit_code"]) == ("failed", 1)
    assert failed.json()["stderr"] == "boom\n"


async def test_wait_answers_202_with_the_running_task_once_its_limit_passes(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling, runner: FakeRunner
) -> None:
    """A long task does not hold the request past the gateway's upstream timeout."""
    async with start_orchestrator(task_wait_max_seconds=0.5) as http:
        alice = Caller(http, gateway_signer, member())
        session = await alice.running_session()

        response = await alice.post(
            tasks_of(session), json={"command": "sleep", "timeout_seconds": 60}, params={"wait": 1}
        )

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running"


async def test_stdin_given_with_the_task_reaches_the_process(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()

    response = await alice.post(
        tasks_of(session), json={"command": "cat", "stdin": "to be echoed"}, params={"wait": 1}
    )

    assert response.json()["stdout"] == "to be echoed"
    assert runner.execs[0].stdin == b"to be echoed"


async def test_wait_cuts_long_output_and_says_so(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling, runner: FakeRunner
) -> None:
    async with start_orchestrator(task_output_limit_bytes=10) as http:
        alice = Caller(http, gateway_signer, member())
        session = await alice.running_session()

        response = await alice.post(
            tasks_of(session), json={"command": "echo " + "x" * 30}, params={"wait": True}
        )

    assert response.json()["stdout"] == "x" * 10
    assert response.json()["truncated"] is True


async def test_a_wait_longer_than_the_task_timeout_answers_202_with_where_it_stands(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling, runner: FakeRunner
) -> None:
    async with start_orchestrator(task_wait_margin_seconds=0.1) as http:
        alice = Caller(http, gateway_signer, member())
        session = await alice.running_session()

        response = await alice.post(
            tasks_of(session), json={"command": "sleep", "timeout_seconds": 1}, params={"wait": 1}
        )

    assert response.status_code == 202
    assert response.json()["status"] == "running"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"command": "   "}, "command"),
        ({"command": "ls", "timeout_seconds": 0}, "timeout_seconds"),
        ({"command": "ls", "cwd": ""}, "cwd"),
        ({"command": "ls", "env": {"": "x"}}, "env."),
        ({}, "command"),
        ({"command": "ls", "shell": "bash"}, "body"),
    ],
)
async def test_bad_task_bodies_answer_400(
    alice: Caller, runner: FakeRunner, body: dict[str, Any], field: str
) -> None:
    session = await alice.running_session()

    error = assert_error(await alice.post(tasks_of(session), json=body), 400, "validation_error")

    assert field in [f["field"] for f in error["details"]["fields"]] or field == "body"
    assert runner.execs == []


async def test_a_session_that_is_not_running_answers_409(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    await alice.delete(f"{SESSIONS}/{session['id']}")

    error = assert_error(
        await alice.post(tasks_of(session), json={"command": "ls"}), 409, "session_not_running"
    )

    assert error["details"]["status"] in ("stopping", "stopped")
    assert (await alice.get(tasks_of(session))).json()["data"] == []


async def test_an_unreachable_runner_fails_the_task_and_answers_503(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    await runner.close()

    assert_error(
        await alice.post(tasks_of(session), json={"command": "ls"}), 503, "runner_unavailable"
    )

    listed = (await alice.get(tasks_of(session))).json()["data"]
    assert [t["status"] for t in listed] == ["failed"]
    assert "not started" in listed[0]["error"]


async def test_tasks_are_listed_newest_first_and_paged(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    ids = [
        (await alice.post(tasks_of(session), json={"command": f"echo {i}"})).json()["id"]
        for i in range(3)
    ]

    page = (await alice.get(tasks_of(session), params={"limit": 2})).json()
    rest = (
        await alice.get(tasks_of(session), params={"limit": 2, "cursor": page["next_cursor"]})
    ).json()

    assert [t["id"] for t in page["data"] + rest["data"]] == ids[::-1]
    assert "stdout" not in page["data"][0]
    assert rest["next_cursor"] is None


async def test_the_list_filters_by_status(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    ids: dict[str, str] = {}
    for command in ("echo 1", "fail", "echo 2", "sleep"):
        ids[command] = (await alice.post(tasks_of(session), json={"command": command})).json()["id"]
    for command, status in (("echo 1", "succeeded"), ("fail", "failed"), ("echo 2", "succeeded")):
        await alice.task_in(ids[command], status)
    await alice.task_in(ids["sleep"], "running")

    async def listed(status: str, cursor: str | None = None) -> dict[str, Any]:
        params = {"status": status, "limit": 1} | ({"cursor": cursor} if cursor else {})
        page: dict[str, Any] = (await alice.get(tasks_of(session), params=params)).json()
        return page

    succeeded = await listed("succeeded")
    rest = await listed("succeeded", succeeded["next_cursor"])
    assert [t["id"] for t in succeeded["data"] + rest["data"]] == [ids["echo 2"], ids["echo 1"]]
    assert rest["next_cursor"] is None
    assert [t["id"] for t in (await listed("failed"))["data"]] == [ids["fail"]]
    assert [t["id"] for t in (await listed("running"))["data"]] == [ids["sleep"]]
    assert await listed("timed_out") == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("params", [{"status": "done"}, {"status": ""}, {"limit": 0}])
async def test_bad_list_parameters_answer_400(
    alice: Caller, runner: FakeRunner, params: dict[str, object]
) -> None:
    session = await alice.running_session()

    assert_error(await alice.get(tasks_of(session), params=params), 400, "validation_error")


async def test_another_organizations_task_is_404(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    task_id = (await alice.post(tasks_of(session), json={"command": "sleep"})).json()["id"]
    mallory = Caller(http, gateway_signer, member())

    assert_error(await mallory.get(f"{TASKS}/{task_id}"), 404, "task_not_found")
    assert_error(await mallory.post(f"{TASKS}/{task_id}/cancel"), 404, "task_not_found")
    assert_error(await mallory.get(f"{TASKS}/{task_id}/stream"), 404, "task_not_found")
    assert runner.processes[task_id].cancelled.is_set() is False


async def test_cancel_signals_the_process_and_the_task_ends_cancelled(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    task_id = (await alice.post(tasks_of(session), json={"command": "sleep"})).json()["id"]
    watcher = Caller(http, gateway_signer, viewer(alice.org))

    assert_error(await watcher.post(f"{TASKS}/{task_id}/cancel"), 403, "role_required")
    response = await alice.post(f"{TASKS}/{task_id}/cancel")

    assert response.status_code == 202
    done = await alice.task_in(task_id, "cancelled")
    assert done["exit_code"] is None
    assert_error(await alice.post(f"{TASKS}/{task_id}/cancel"), 409, "task_not_running")
