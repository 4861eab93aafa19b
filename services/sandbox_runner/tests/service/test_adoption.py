"""A restarted runner takes its sandboxes back, and clears what it should not keep."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from runner_support import (
    completed,
    events,
    exec_task,
    placement,
    requested,
    spec,
    start,
    stop,
    wait_for,
)
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import (
    SandboxFailed,
    SandboxStarted,
    SandboxStopped,
    SessionUsage,
    TaskCompleted,
)
from skiff_sandbox_runner.adoption import RESTARTED, VANISHED
from skiff_sandbox_runner.app import create
from skiff_sandbox_runner.backends.local import LocalBackend
from skiff_sandbox_runner.models import SandboxRow, TaskRow
from skiff_testing.bus import eventually
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def test_a_restarted_runner_adopts_its_sessions_and_clears_the_rest(
    make_settings: Any,
    js: JetStreamContext,
    nc: NATS,
    runner_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = make_settings()
    async with AsyncTestClient(create(settings)):
        kept = await start(js)
    # While it was down: the session ran for two more minutes, a task was left running by a
    # crash, a sandbox with no session appeared, and a live row lost its sandbox.
    stray = await LocalBackend(runner_id, Path(settings.workspace_root)).start(
        "sbx_stray", spec(), None
    )
    vanished = requested()
    now = datetime.now(UTC)
    orphan_task = new_id("tsk")
    async with sessions() as session, session.begin():
        await session.execute(
            update(SandboxRow)
            .where(SandboxRow.session_id == kept.session_id)
            .values(active_seconds_before=125.0)
        )
        session.add(
            SandboxRow(
                sandbox_id="sbx_gone",
                session_id=vanished.session_id,
                organization_id=vanished.organization_id,
                runner_id=runner_id,
                backend="local",
                handle="",
                spec={
                    "image": "x",
                    "cpu": 1,
                    "memory_mb": 1,
                    "network": "none",
                    "timeout_seconds": 60,
                    "idle_timeout_seconds": 60,
                },
                status="running",
                started_at=now,
                running_since=now,
                last_activity_at=now,
                minutes_reported=1,
            )
        )
        session.add(
            TaskRow(
                task_id=orphan_task,
                session_id=kept.session_id,
                organization_id=kept.organization_id,
                runner_id=runner_id,
                status="running",
                started_at=now,
            )
        )

    async with AsyncTestClient(create(settings)) as restarted:
        held = restarted.app.state.sandbox_runtime.holdings.get(kept.session_id)
        assert held is not None
        assert held.status == "running"
        assert await placement(js, kept.session_id) is not None
        assert not stray.workspace.exists()

        usage = await wait_for(js, SessionUsage, kept.session_id, count=2)
        assert (usage.minutes_started, usage.final) == (3, False)
        assert usage.active_seconds >= 125

        lost = await wait_for(js, SandboxFailed, vanished.session_id)
        assert lost.reason == VANISHED
        [final] = await events(js, SessionUsage, vanished.session_id)
        assert (final.final, final.minutes_started) == (True, 1)

        orphan = await completed(js, kept.session_id, orphan_task)
        assert (orphan.status, orphan.error) == ("failed", RESTARTED)

        task_id = await exec_task(nc, runner_id, kept, "echo still here")
        assert (await completed(js, kept.session_id, task_id)).stdout == "still here\n"
        await stop(js, kept, runner_id)
        stopped = await wait_for(js, SandboxStopped, kept.session_id)
        assert stopped.active_seconds >= 125
    assert len(await events(js, SandboxStarted, kept.session_id)) == 1


async def test_a_stop_requested_while_the_runner_was_down_is_carried_out_on_restart(
    make_settings: Any, js: JetStreamContext, runner_id: str
) -> None:
    settings = make_settings()
    async with AsyncTestClient(create(settings)):
        session = await start(js)
    await stop(js, session, runner_id)
    async with AsyncTestClient(create(settings)):
        stopped = await wait_for(js, SandboxStopped, session.session_id)
    assert stopped.reason == "requested"


async def test_running_tasks_fail_when_the_runner_shuts_down(
    make_settings: Any, js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    async with AsyncTestClient(create(make_settings())):
        session = await start(js)
        task_id = await exec_task(nc, runner_id, session, "sleep 30")
    async with AsyncTestClient(create(make_settings())):
        outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.error) == ("failed", RESTARTED)
    assert len([t for t in await events(js, TaskCompleted, session.session_id)]) == 1


async def test_a_warm_sandbox_is_claimed_by_a_matching_request_and_refilled(
    make_settings: Any, js: JetStreamContext
) -> None:
    async with AsyncTestClient(create(make_settings(warm_pool_size=1))) as client:
        pool = client.app.state.sandbox_runtime.warm_pool

        async def filled() -> bool:
            return len(pool) == 1

        await eventually(filled, what="a warm sandbox")
        [waiting] = pool._ready
        session = await start(js, env={"ANY": "env"}, timeout_seconds=60)
        started = await wait_for(js, SandboxStarted, session.session_id)
        assert started.warm is True
        held = client.app.state.sandbox_runtime.holdings.get(session.session_id)
        assert held.sandbox.sandbox_id == waiting.sandbox_id
        await eventually(filled, what="the pool refilled")

        other = await start(js, memory_mb=1024)
        assert (await wait_for(js, SandboxStarted, other.session_id)).warm is False
        leftover = pool._ready[0]
    assert not leftover.workspace.exists()  # unclaimed warm sandboxes do not outlive the runner
