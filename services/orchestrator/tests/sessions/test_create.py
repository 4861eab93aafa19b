"""POST /api/v1/sessions: validation, limits, credits, and what reaches the runner."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller, assert_error, read_only_key, viewer
from sandbox_fakes import FakeRunner
from skiff_contracts import Envelope
from skiff_contracts.events.orchestrator import SessionRequested
from skiff_testing.bus import eventually, stream_envelopes
from skiff_testing.services import GatewaySigner


async def test_a_session_starts_with_defaults_and_runs_once_its_runner_started_it(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    response = await alice.post(SESSIONS, json={"metadata": {"team": "ml"}, "env": {"A": "1"}})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "starting"
    assert body["id"].startswith("ses_")
    assert body["image"] == "skiff-sandbox:latest"
    assert body["resources"] == {"cpu": 1.0, "memory_mb": 512}
    assert body["network"] == "none"
    assert (body["timeout_seconds"], body["idle_timeout_seconds"]) == (3600, 300)
    assert body["metadata"] == {"team": "ml"}
    assert body["env_keys"] == ["A"]
    assert body["credits_used"] == 0
    running = await alice.session_in(body["id"], "running")
    assert running["runner_id"] == "runner-1"
    assert running["started_at"] is not None
    requested = [e for e in await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")]
    assert [e.type for e in requested] == ["orchestrator.session.requested"]
    payload = requested[0].payload(SessionRequested)
    assert payload.session_id == body["id"]
    assert payload.organization_id == alice.org
    assert payload.spec.env == {"A": "1"}


async def test_what_the_caller_asks_for_is_what_the_runner_is_asked_to_start(
    alice: Caller, nc: NATS
) -> None:
    wanted = {
        "image": "python:3.12",
        "timeout_seconds": 600,
        "idle_timeout_seconds": 60,
        "resources": {"cpu": 0.5, "memory_mb": 1024},
        "network": "egress",
    }
    response = await alice.post(SESSIONS, json=wanted)

    assert response.status_code == 201, response.text
    # The relay publishes after the commit, in the background: wait for the request.
    published: list[Envelope] = []

    async def requested() -> bool:
        published[:] = await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")
        return bool(published)

    await eventually(requested, what="orchestrator.session.requested in the stream")
    spec = published[0].payload(SessionRequested).spec
    assert (spec.image, spec.cpu, spec.memory_mb, spec.network) == (
        "python:3.12",
        0.5,
        1024,
        "egress",
    )
    assert (spec.timeout_seconds, spec.idle_timeout_seconds) == (600, 60)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"image": "evil:latest"}, ["image"]),
        ({"resources": {"cpu": 0.1}}, ["resources.cpu"]),
        ({"resources": {"cpu": 8, "memory_mb": 64}}, ["resources.cpu", "resources.memory_mb"]),
        ({"timeout_seconds": 5}, ["timeout_seconds"]),
        ({"timeout_seconds": 90000}, ["timeout_seconds"]),
        ({"timeout_seconds": 60, "idle_timeout_seconds": 120}, ["idle_timeout_seconds"]),
        ({"env": {f"K{i}": "v" for i in range(65)}}, ["env"]),
        ({"env": {"A=B": "v"}}, ["env.A=B"]),
        ({"metadata": {"k": "x" * 5000}}, ["metadata"]),
    ],
)
async def test_bad_values_answer_400_naming_each_field(
    alice: Caller, body: dict[str, Any], fields: list[str]
) -> None:
    response = await alice.post(SESSIONS, json=body)

    error = assert_error(response, 400, "validation_error")
    assert [f["field"] for f in error["details"]["fields"]] == fields


@pytest.mark.parametrize(
    "body",
    [{"network": "host"}, {"cpu": 1}, {"timeout_seconds": "long"}, {"env": {"A": 1}}],
)
async def test_malformed_bodies_answer_400(alice: Caller, body: dict[str, Any]) -> None:
    assert_error(await alice.post(SESSIONS, json=body), 400, "validation_error")


async def test_a_viewer_or_a_read_only_key_cannot_start_a_session(
    http: httpx.AsyncClient, gateway_signer: GatewaySigner, billing: FakeBilling
) -> None:
    org = "org_" + "x" * 20
    for principal in (viewer(org), read_only_key(org)):
        response = await Caller(http, gateway_signer, principal).post(SESSIONS)
        assert response.status_code == 403


async def test_without_an_internal_token_the_answer_is_401(http: httpx.AsyncClient) -> None:
    assert_error(await http.post(SESSIONS), 401, "missing_internal_token")


async def test_past_the_limit_of_live_sessions_the_answer_is_429(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling
) -> None:
    async with start_orchestrator(max_sessions_per_organization=2) as http:
        alice = Caller(http, gateway_signer, _member())
        for _ in range(2):
            assert (await alice.post(SESSIONS)).status_code == 201

        error = assert_error(await alice.post(SESSIONS), 429, "too_many_sessions")

        assert error["details"] == {"limit": 2, "current": 2}
        other = Caller(http, gateway_signer, _member())
        assert (await other.post(SESSIONS)).status_code == 201


async def test_a_stopped_session_no_longer_counts_against_the_limit(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling, runner: FakeRunner
) -> None:
    async with start_orchestrator(max_sessions_per_organization=1) as http:
        alice = Caller(http, gateway_signer, _member())
        session = await alice.running_session()
        assert (await alice.post(SESSIONS)).status_code == 429

        await alice.delete(f"{SESSIONS}/{session['id']}")
        await alice.session_in(session["id"], "stopped")

        assert (await alice.post(SESSIONS)).status_code == 201


async def test_two_creates_at_the_limit_at_once_admit_exactly_one(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling
) -> None:
    async with start_orchestrator(max_sessions_per_organization=3) as http:
        alice = Caller(http, gateway_signer, _member())
        for _ in range(2):
            assert (await alice.post(SESSIONS)).status_code == 201

        answers = await asyncio.gather(*(alice.post(SESSIONS) for _ in range(4)))

        assert sorted(r.status_code for r in answers) == [201, 429, 429, 429]
        listed = (await alice.get(SESSIONS)).json()["data"]
        assert len(listed) == 3


async def test_without_credits_the_answer_is_402_with_what_is_available(
    alice: Caller, billing: FakeBilling, nc: NATS
) -> None:
    billing.available[alice.org] = 0

    error = assert_error(await alice.post(SESSIONS), 402, "insufficient_credits")

    assert error["details"] == {"required": 1, "available": 0}
    assert billing.checks[-1].organization_id == alice.org
    assert await stream_envelopes(nc.jetstream(), "ORCHESTRATOR") == []
    assert (await alice.get(SESSIONS)).json()["data"] == []


async def test_when_billing_does_not_answer_the_answer_is_503(
    alice: Caller, billing: FakeBilling
) -> None:
    await billing.close()

    error = assert_error(await alice.post(SESSIONS), 503, "billing_unavailable")

    assert "rpc.billing.credits.check" in error["details"]["reason"]
    assert (await alice.get(SESSIONS)).json()["data"] == []


async def test_the_starting_status_is_announced_on_live(alice: Caller, nc: NATS) -> None:
    session_id = (await alice.post(SESSIONS)).json()["id"]

    async def announced() -> bool:
        info = await nc.jetstream().stream_info("LIVE")
        return info.state.messages >= 1

    await eventually(announced, what="live status")
    msg = await nc.jetstream().get_last_msg("LIVE", f"live.{session_id}.session")
    assert b'"status":"starting"' in (msg.data or b"")


def _member() -> Any:
    from orchestrator_support import member

    return member()
