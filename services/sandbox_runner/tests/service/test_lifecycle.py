"""The runner ends sessions on its own: idle, too old, or dead; pause stops the meter."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from runner_support import completed, exec_task, live, placement, rpc, start, stop, wait_for
from skiff_contracts.events.sandbox import (
    SandboxFailed,
    SandboxPaused,
    SandboxResumed,
    SandboxStarted,
    SandboxStopped,
    SessionUsage,
)
from skiff_contracts.rpc.sandbox import Done, SessionRef
from skiff_testing.bus import stream_envelopes


async def test_paused_time_is_not_metered(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    ref = SessionRef(session_id=session.session_id)
    assert (await rpc(nc, runner_id, "pause", ref, Done)).status == "paused"
    assert (await rpc(nc, runner_id, "pause", ref, Done)).status == "paused"  # no-op
    await asyncio.sleep(1.5)  # paused for a while: none of it may be billed
    assert (await rpc(nc, runner_id, "resume", ref, Done)).status == "running"
    await stop(js, session, runner_id)

    started = await wait_for(js, SandboxStarted, session.session_id)
    paused = await wait_for(js, SandboxPaused, session.session_id)
    resumed = await wait_for(js, SandboxResumed, session.session_id)
    stopped = await wait_for(js, SandboxStopped, session.session_id)
    wall = (stopped.stopped_at - started.started_at).total_seconds()
    frozen = (resumed.resumed_at - paused.paused_at).total_seconds()
    assert frozen >= 1.5
    assert abs(stopped.active_seconds - (wall - frozen)) < 0.1
    final = await wait_for(js, SessionUsage, session.session_id, count=2)
    assert (final.final, final.active_seconds) == (True, stopped.active_seconds)
    statuses = [e.status for e in await live(js, session.session_id)]
    assert statuses == ["running", "paused", "running", "stopped"]


async def test_an_idle_session_stops(
    runner: AsyncTestClient[Any], js: JetStreamContext, runner_id: str
) -> None:
    session = await start(js, idle_timeout_seconds=1)
    stopped = await wait_for(js, SandboxStopped, session.session_id)
    assert stopped.reason == "idle_timeout"
    assert await placement(js, session.session_id) is None


async def test_a_running_task_keeps_a_session_from_idling(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js, idle_timeout_seconds=1)
    task_id = await exec_task(nc, runner_id, session, "sleep 2.5; echo survived")
    stopped = await wait_for(js, SandboxStopped, session.session_id)
    assert stopped.reason == "idle_timeout"

    outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.stdout) == ("succeeded", "survived\n")
    order = [(e.type, e.subject) for e in await stream_envelopes(js, "SANDBOX")]
    assert order.index(("sandbox.task.completed", task_id)) < order.index(
        ("sandbox.session.stopped", session.session_id)
    )


async def test_touch_keeps_a_session_alive(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js, idle_timeout_seconds=1)
    for _ in range(8):
        await rpc(nc, runner_id, "touch", SessionRef(session_id=session.session_id), Done)
        await asyncio.sleep(0.25)
    held = runner.app.state.sandbox_runtime.holdings.get(session.session_id)
    assert held is not None
    assert held.status == "running"
    assert (await wait_for(js, SandboxStopped, session.session_id)).reason == "idle_timeout"


async def test_a_session_past_its_lifetime_stops_even_while_busy(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js, timeout_seconds=1)
    task_id = await exec_task(nc, runner_id, session, "sleep 30")
    stopped = await wait_for(js, SandboxStopped, session.session_id)
    assert stopped.reason == "timeout"
    assert stopped.active_seconds >= 1
    outcome = await completed(js, session.session_id, task_id)
    assert outcome.status == "cancelled"
    assert "timeout" in (outcome.error or "")


async def test_a_sandbox_that_dies_fails_its_session(
    runner: AsyncTestClient[Any], js: JetStreamContext
) -> None:
    session = await start(js)
    held = runner.app.state.sandbox_runtime.holdings.get(session.session_id)
    shutil.rmtree(held.sandbox.workspace)  # what a dead local sandbox looks like
    failed = await wait_for(js, SandboxFailed, session.session_id)
    assert failed.reason == "the sandbox died"
    final = await wait_for(js, SessionUsage, session.session_id, count=2)
    assert final.final is True
    assert await placement(js, session.session_id) is None
