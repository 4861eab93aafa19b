"""Events from runners and billing move sessions forward only, whatever their order."""

from __future__ import annotations

from datetime import timedelta

from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller, billing_consumed, sandbox_consumed
from sandbox_fakes import FakeRunner, now, publish_event
from skiff_contracts import Envelope
from skiff_contracts.events.orchestrator import SessionStopRequested
from skiff_contracts.events.sandbox import (
    SandboxFailed,
    SandboxPaused,
    SandboxResumed,
    SandboxStarted,
    SandboxStopped,
)
from skiff_testing.bus import eventually, stream_envelopes

RUNNER = "runner-9"
SOURCE = "skiff/sandbox-runner"


async def _new_session(alice: Caller) -> str:
    response = await alice.post(SESSIONS)
    assert response.status_code == 201
    return str(response.json()["id"])


async def _applied(nc: NATS) -> None:
    await eventually(lambda: sandbox_consumed(nc), what="SANDBOX consumed")


async def test_a_stop_arriving_before_the_start_leaves_the_session_stopped(
    alice: Caller, nc: NATS
) -> None:
    session_id = await _new_session(alice)
    t0 = now()
    common = {"session_id": session_id, "organization_id": alice.org, "runner_id": RUNNER}

    await publish_event(
        nc,
        SandboxStopped(**common, reason="idle_timeout", active_seconds=61.0, stopped_at=t0),
        source=SOURCE,
        org=alice.org,
    )
    await publish_event(
        nc,
        SandboxStarted(**common, backend="local", warm=True, started_at=t0 - timedelta(minutes=1)),
        source=SOURCE,
        org=alice.org,
    )
    await _applied(nc)

    session = (await alice.get(f"{SESSIONS}/{session_id}")).json()
    assert session["status"] == "stopped"
    assert session["stop_reason"] == "idle_timeout"
    assert session["running_seconds"] == 61.0
    assert session["runner_id"] == RUNNER  # known from the stop, though the start came late


async def test_failed_is_final_and_a_repeated_event_changes_nothing(
    alice: Caller, nc: NATS
) -> None:
    session_id = await _new_session(alice)
    common = {"session_id": session_id, "organization_id": alice.org, "runner_id": RUNNER}
    failed = Envelope.wrap(
        SandboxFailed(**common, reason="image not found", failed_at=now()),
        source=SOURCE,
        organization_id=alice.org,
    )
    for _ in range(2):
        await nc.jetstream().publish(failed.type, failed.encode())  # a re-delivery, no dedup
    await publish_event(
        nc,
        SandboxStarted(**common, backend="local", warm=False, started_at=now()),
        source=SOURCE,
        org=alice.org,
    )
    await _applied(nc)

    session = (await alice.get(f"{SESSIONS}/{session_id}")).json()
    assert session["status"] == "failed"
    assert session["failure_reason"] == "image not found"


async def test_an_old_pause_arriving_after_a_resume_is_ignored(alice: Caller, nc: NATS) -> None:
    session_id = await _new_session(alice)
    common = {"session_id": session_id, "organization_id": alice.org, "runner_id": RUNNER}
    t0 = now()
    for event in (
        SandboxStarted(**common, backend="local", warm=False, started_at=t0),
        SandboxResumed(**common, resumed_at=t0 + timedelta(seconds=20)),
        SandboxPaused(**common, paused_at=t0 + timedelta(seconds=10)),
    ):
        await publish_event(nc, event, source=SOURCE, org=alice.org)
    await _applied(nc)
    assert (await alice.get(f"{SESSIONS}/{session_id}")).json()["status"] == "running"

    await publish_event(
        nc,
        SandboxPaused(**common, paused_at=t0 + timedelta(seconds=30)),
        source=SOURCE,
        org=alice.org,
    )
    await _applied(nc)
    assert (await alice.get(f"{SESSIONS}/{session_id}")).json()["status"] == "paused"


async def test_running_does_not_overwrite_stopping(alice: Caller, nc: NATS) -> None:
    session_id = await _new_session(alice)
    await alice.delete(f"{SESSIONS}/{session_id}")
    common = {"session_id": session_id, "organization_id": alice.org, "runner_id": RUNNER}

    await publish_event(
        nc,
        SandboxStarted(**common, backend="local", warm=False, started_at=now()),
        source=SOURCE,
        org=alice.org,
    )
    await _applied(nc)

    session = (await alice.get(f"{SESSIONS}/{session_id}")).json()
    assert session["status"] == "stopping"
    assert session["runner_id"] == RUNNER


async def test_credits_used_follows_billing_and_never_goes_down(
    alice: Caller, billing: FakeBilling, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()

    await billing.charged(alice.org, session["id"], total=2)
    await billing.charged(alice.org, session["id"], total=3)
    await billing.charged(alice.org, session["id"], total=1)  # late
    await eventually(lambda: billing_consumed(nc), what="BILLING consumed")

    assert (await alice.get(f"{SESSIONS}/{session['id']}")).json()["credits_used"] == 3


async def test_exhausted_credits_stop_every_live_session_of_the_organization(
    alice: Caller, billing: FakeBilling, runner: FakeRunner, nc: NATS
) -> None:
    first = await alice.running_session()
    second = await alice.running_session()
    starting = await _new_session(alice)  # with no runner yet: stopping all the same
    runner.auto_start = False

    await billing.exhausted(alice.org)

    for session_id in (first["id"], second["id"]):
        stopped = await alice.session_in(session_id, "stopped")
        assert stopped["stop_reason"] == "credits_exhausted"
    assert (await alice.get(f"{SESSIONS}/{starting}")).json()["status"] in ("stopping", "stopped")
    stops = [
        e.payload(SessionStopRequested)
        for e in await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")
        if e.type == SessionStopRequested.event_type
    ]
    assert {s.session_id for s in stops} == {first["id"], second["id"], starting}
    assert {s.reason for s in stops} == {"credits_exhausted"}
