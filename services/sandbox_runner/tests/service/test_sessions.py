"""A session's start and stop, as the orchestrator sees them on the bus."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from runner_support import (
    events,
    from_orchestrator,
    placement,
    requested,
    sandbox_types,
    start,
    stop,
    wait_for,
)
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SessionFailed
from skiff_contracts.events.sandbox import (
    SandboxFailed,
    SandboxStarted,
    SandboxStopped,
    SessionUsage,
)
from skiff_contracts.live import RUNNERS_BUCKET, RunnerInfo
from skiff_sandbox_runner.models import SandboxRow
from skiff_testing.bus import consumed_everything, eventually, publish
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SHARED = "sandbox-runner--orchestrator-session-requested"


async def rows(sessions: async_sessionmaker[AsyncSession], session_id: str) -> list[SandboxRow]:
    async with sessions() as session:
        query = select(SandboxRow).where(SandboxRow.session_id == session_id)
        return list(await session.scalars(query))


async def test_a_requested_session_starts_is_placed_and_starts_its_first_minute(
    runner: AsyncTestClient[Any],
    js: JetStreamContext,
    runner_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await start(js)

    started = await wait_for(js, SandboxStarted, session.session_id)
    assert (started.runner_id, started.backend, started.warm) == (runner_id, "local", False)
    assert started.organization_id == session.organization_id
    [usage] = await events(js, SessionUsage, session.session_id)
    assert (usage.minutes_started, usage.final, usage.runner_id) == (1, False, runner_id)

    where = await placement(js, session.session_id)
    assert where is not None
    assert (where.runner_id, where.url) == (runner_id, "http://runner.test:9999")
    assert where.organization_id == session.organization_id

    [row] = await rows(sessions, session.session_id)
    assert (row.status, row.runner_id, row.minutes_reported) == ("running", runner_id, 1)
    assert row.spec["image"] == session.spec.image

    announced = await (await js.key_value(RUNNERS_BUCKET)).get(runner_id)
    info = msgspec.json.decode(announced.value or b"", type=RunnerInfo)
    assert (info.url, info.backend) == ("http://runner.test:9999", "local")


async def test_a_stop_request_removes_the_sandbox_with_a_final_usage_of_exact_seconds(
    runner: AsyncTestClient[Any],
    js: JetStreamContext,
    runner_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await start(js)
    [row] = await rows(sessions, session.session_id)
    workspace = runner.app.state.sandbox_runtime.holdings.get(session.session_id).sandbox.workspace
    assert workspace.is_dir()

    await stop(js, session, runner_id)
    stopped = await wait_for(js, SandboxStopped, session.session_id)

    assert stopped.reason == "requested"
    assert 0 < stopped.active_seconds < 60
    usages = await events(js, SessionUsage, session.session_id)
    assert [(u.minutes_started, u.final) for u in usages] == [(1, False), (1, True)]
    assert usages[-1].active_seconds == stopped.active_seconds
    assert await sandbox_types(js, session.session_id) == [
        "sandbox.session.started",
        "sandbox.session.usage",
        "sandbox.session.usage",
        "sandbox.session.stopped",
    ]
    assert await placement(js, session.session_id) is None
    assert not workspace.exists()
    [row] = await rows(sessions, session.session_id)
    assert (row.status, row.stop_reason) == ("stopped", "requested")


async def test_a_redelivered_request_starts_nothing_more(
    runner: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = requested()
    await publish(js, from_orchestrator(payload, payload.organization_id))
    await wait_for(js, SandboxStarted, payload.session_id)
    # The same event under another message id (the stream does not drop it), and a new
    # envelope of the same request (the inbox does not drop it either).
    first = from_orchestrator(payload, payload.organization_id)
    await publish(js, first, msg_id=new_id("evt"))
    await publish(js, from_orchestrator(payload, payload.organization_id))

    async def handled() -> bool:
        return await consumed_everything(js, SHARED, stream="ORCHESTRATOR")

    await eventually(handled, what="every request handled")
    assert len(await events(js, SandboxStarted, payload.session_id)) == 1
    assert len(await rows(sessions, payload.session_id)) == 1
    assert len(runner.app.state.sandbox_runtime.holdings) == 1


async def test_a_stop_for_a_session_held_elsewhere_is_ignored(
    runner: AsyncTestClient[Any], js: JetStreamContext, runner_id: str
) -> None:
    session = await start(js)
    other = requested()
    await stop(js, other, runner_id)
    failed = SessionFailed(
        session_id=session.session_id,
        organization_id=new_id("org"),  # not the session's organization
        runner_id=runner_id,
        reason="runner_lost",
        failed_at=session.requested_at,
    )
    await publish(js, from_orchestrator(failed, failed.organization_id))

    async def handled() -> bool:
        return await consumed_everything(
            js, f"sandbox-runner-{runner_id}--orchestrator", stream="ORCHESTRATOR"
        )

    await eventually(handled, what="both events handled")
    assert await events(js, SandboxStopped, session.session_id) == []
    assert await placement(js, session.session_id) is not None


async def test_the_orchestrator_failing_a_session_stops_its_sandbox(
    runner: AsyncTestClient[Any], js: JetStreamContext, runner_id: str
) -> None:
    session = await start(js)
    failed = SessionFailed(
        session_id=session.session_id,
        organization_id=session.organization_id,
        runner_id=runner_id,
        reason="runner_lost",
        failed_at=session.requested_at,
    )
    await publish(js, from_orchestrator(failed, session.organization_id))

    stopped = await wait_for(js, SandboxStopped, session.session_id)
    assert stopped.reason == "runner_lost"
    assert await placement(js, session.session_id) is None


async def test_a_request_too_old_to_start_fails_the_session_with_the_reason(
    runner: AsyncTestClient[Any], js: JetStreamContext
) -> None:
    payload = requested()
    # A request too old to start: the orchestrator has given up on it by now.
    late = type(payload)(
        session_id=payload.session_id,
        organization_id=payload.organization_id,
        spec=payload.spec,
        requested_at=payload.requested_at.replace(year=payload.requested_at.year - 1),
    )
    await publish(js, from_orchestrator(late, late.organization_id))

    failed = await wait_for(js, SandboxFailed, late.session_id)
    assert "not started within" in failed.reason
    assert await events(js, SandboxStarted, late.session_id) == []
