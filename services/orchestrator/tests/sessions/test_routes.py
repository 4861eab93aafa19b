"""Listing, showing, stopping, keeping alive, pausing and resuming sessions."""

from __future__ import annotations

import httpx
import pytest
from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import (
    SESSIONS,
    Caller,
    assert_error,
    member,
    sandbox_consumed,
    viewer,
)
from sandbox_fakes import FakeRunner
from skiff_contracts.events.orchestrator import SessionStopRequested
from skiff_testing.bus import eventually, stream_envelopes
from skiff_testing.services import GatewaySigner


async def test_the_list_filters_by_status_and_metadata_and_pages(
    alice: Caller, runner: FakeRunner
) -> None:
    first = await alice.running_session(metadata={"team": "ml", "run": "1"})
    second = await alice.running_session(metadata={"team": "ml", "run": "2"})
    third = await alice.running_session(metadata={"team": "web"})
    await alice.delete(f"{SESSIONS}/{third['id']}")
    await alice.session_in(third["id"], "stopped")

    running = (await alice.get(SESSIONS, params={"status": "running"})).json()["data"]
    assert [s["id"] for s in running] == [second["id"], first["id"]]
    ml = (await alice.get(SESSIONS, params={"metadata.team": "ml", "metadata.run": "2"})).json()
    assert [s["id"] for s in ml["data"]] == [second["id"]]
    page = (await alice.get(SESSIONS, params={"limit": 2})).json()
    assert [s["id"] for s in page["data"]] == [third["id"], second["id"]]
    rest = (await alice.get(SESSIONS, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [s["id"] for s in rest["data"]] == [first["id"]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "params", [{"status": "sleeping"}, {"limit": 0}, {"limit": 201}, {"cursor": "nonsense!"}]
)
async def test_bad_list_parameters_answer_400(alice: Caller, params: dict[str, object]) -> None:
    assert_error(await alice.get(SESSIONS, params=params), 400, "validation_error")


async def test_another_organizations_session_is_404_on_every_route(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    mallory = Caller(http, gateway_signer, member())
    base = f"{SESSIONS}/{session['id']}"

    assert_error(await mallory.get(base), 404, "session_not_found")
    assert_error(await mallory.delete(base), 404, "session_not_found")
    for action in ("keepalive", "pause", "resume", "tasks"):
        body = {"command": "echo hi"} if action == "tasks" else None
        assert_error(await mallory.post(f"{base}/{action}", json=body), 404, "session_not_found")
    assert_error(await mallory.get(f"{base}/tasks"), 404, "session_not_found")
    assert (await mallory.get(SESSIONS)).json()["data"] == []
    assert (await alice.get(base)).json()["status"] == "running"


async def test_a_viewer_reads_but_cannot_change_a_session(
    alice: Caller, runner: FakeRunner, http: httpx.AsyncClient, gateway_signer: GatewaySigner
) -> None:
    session = await alice.running_session()
    watcher = Caller(http, gateway_signer, viewer(alice.org))
    base = f"{SESSIONS}/{session['id']}"

    assert (await watcher.get(base)).status_code == 200
    assert_error(await watcher.delete(base), 403, "role_required")
    for action in ("keepalive", "pause", "resume"):
        assert_error(await watcher.post(f"{base}/{action}"), 403, "role_required")
    assert_error(
        await watcher.post(f"{base}/tasks", json={"command": "echo"}), 403, "role_required"
    )


async def test_stopping_a_session_asks_its_runner_and_ends_stopped(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()

    response = await alice.delete(f"{SESSIONS}/{session['id']}")

    assert response.status_code == 202
    assert response.json()["status"] == "stopping"
    stopped = await alice.session_in(session["id"], "stopped")
    assert stopped["stop_reason"] == "requested"
    assert stopped["stopped_at"] is not None
    assert stopped["running_seconds"] == 1.5  # as the runner measured it
    envelopes = await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")
    stop = [e for e in envelopes if e.type == SessionStopRequested.event_type]
    assert stop[0].payload(SessionStopRequested).runner_id == "runner-1"
    again = await alice.delete(f"{SESSIONS}/{session['id']}")
    assert again.status_code == 200
    assert again.json()["status"] == "stopped"


async def test_a_stop_asked_before_the_runner_started_it_is_repeated_to_that_runner(
    alice: Caller, nc: NATS
) -> None:
    slow = await FakeRunner(nc, auto_start=False).start()
    try:
        session_id = (await alice.post(SESSIONS)).json()["id"]
        assert (await alice.delete(f"{SESSIONS}/{session_id}")).json()["status"] == "stopping"

        async def stop_seen() -> bool:
            return bool(slow.stop_requests)

        await eventually(stop_seen, what="the unaddressed stop at the runner")

        await slow.start_session(session_id, alice.org)  # it started anyway

        stopped = await alice.session_in(session_id, "stopped")
        assert stopped["runner_id"] == slow.runner_id
        assert [s.runner_id for s in slow.stop_requests] == [None, slow.runner_id]
    finally:
        await slow.close()


async def test_pause_and_resume_go_through_the_runner(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()
    base = f"{SESSIONS}/{session['id']}"

    paused = await alice.post(f"{base}/pause")

    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["paused_at"] is not None
    assert_error(await alice.post(f"{base}/pause"), 409, "session_not_running")
    task = await alice.post(f"{base}/tasks", json={"command": "echo"})
    assert_error(task, 409, "session_not_running")
    resumed = await alice.post(f"{base}/resume")
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "running"
    assert resumed.json()["paused_at"] is None
    assert_error(await alice.post(f"{base}/resume"), 409, "session_not_paused")
    await eventually(lambda: sandbox_consumed(nc), what="the runner's events applied")
    assert (await alice.get(base)).json()["status"] == "running"  # late events change nothing


async def test_keepalive_touches_the_runner(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()

    response = await alice.post(f"{SESSIONS}/{session['id']}/keepalive")

    assert response.status_code == 200
    assert runner.touches == [session["id"]]


async def test_a_starting_session_cannot_be_paused_or_kept_alive(alice: Caller, nc: NATS) -> None:
    session_id = (await alice.post(SESSIONS)).json()["id"]  # no runner picks it up

    for action in ("keepalive", "pause"):
        assert_error(
            await alice.post(f"{SESSIONS}/{session_id}/{action}"), 409, "session_not_running"
        )


async def test_a_runner_that_does_not_answer_gives_503(alice: Caller, runner: FakeRunner) -> None:
    session = await alice.running_session()
    await runner.close()

    error = assert_error(
        await alice.post(f"{SESSIONS}/{session['id']}/pause"), 503, "runner_unavailable"
    )

    assert error["details"]["runner_id"] == "runner-1"
    assert (await alice.get(f"{SESSIONS}/{session['id']}")).json()["status"] == "running"


async def test_an_unknown_session_is_404(alice: Caller, billing: FakeBilling) -> None:
    assert_error(await alice.get(f"{SESSIONS}/ses_nope"), 404, "session_not_found")
