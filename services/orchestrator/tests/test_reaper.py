"""The reaper: lost runners, sessions nobody started, tasks never handed to a runner."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from billing_fake import FakeBilling
from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller, member
from sandbox_fakes import FakeRunner
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SessionFailed
from skiff_orchestrator.models import Session, Task
from skiff_orchestrator.reaper import Reaper
from skiff_testing.bus import stream_envelopes
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def test_sessions_of_a_vanished_runner_fail_as_runner_lost(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session = await alice.running_session()
    task = await alice.post(f"{SESSIONS}/{session['id']}/tasks", json={"command": "sleep"})
    assert task.status_code == 202

    await runner.vanish()

    failed = await alice.session_in(session["id"], "failed")
    assert failed["failure_reason"] == "runner_lost"
    events = [
        e.payload(SessionFailed)
        for e in await stream_envelopes(nc.jetstream(), "ORCHESTRATOR")
        if e.type == SessionFailed.event_type
    ]
    assert [(e.session_id, e.runner_id, e.reason) for e in events] == [
        (session["id"], "runner-1", "runner_lost")
    ]
    orphan = (await alice.get(f"/api/v1/tasks/{task.json()['id']}")).json()
    assert orphan["status"] == "failed"
    live = await nc.jetstream().get_last_msg("LIVE", f"live.{session['id']}.session")
    assert b'"status":"failed"' in (live.data or b"")


async def test_only_the_vanished_runners_sessions_fail(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    kept = await alice.running_session()
    other = await FakeRunner(nc, "runner-2", auto_start=False).start()
    runner.auto_start = False  # this one goes to runner-2
    session_id = (await alice.post(SESSIONS)).json()["id"]
    await other.start_session(session_id, alice.org)
    await alice.session_in(session_id, "running")

    await other.vanish()

    await alice.session_in(session_id, "failed")
    assert (await alice.get(f"{SESSIONS}/{kept['id']}")).json()["status"] == "running"


async def test_a_session_nobody_starts_fails_as_not_scheduled(
    start_orchestrator: Any, gateway_signer: GatewaySigner, billing: FakeBilling
) -> None:
    async with start_orchestrator(start_deadline_seconds=0.3) as http:
        alice = Caller(http, gateway_signer, member())
        session_id = (await alice.post(SESSIONS)).json()["id"]

        failed = await alice.session_in(session_id, "failed")

        assert failed["failure_reason"] == "not_scheduled"


async def test_a_task_queued_but_never_handed_over_fails_at_start(
    start_orchestrator: Any,
    gateway_signer: GatewaySigner,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice_principal = member()
    task_id = await _queued_task_left_by_a_crash(sessions, alice_principal.organization_id)

    async with start_orchestrator(stale_queued_task_seconds=30) as http:
        alice = Caller(http, gateway_signer, alice_principal)
        task = await alice.task_in(task_id, "failed")

    assert "before handing the task" in task["error"]


async def _queued_task_left_by_a_crash(sessions: async_sessionmaker[AsyncSession], org: str) -> str:
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    session_id, task_id = new_id("ses"), new_id("tsk")
    async with sessions() as db, db.begin():
        db.add(
            Session(
                id=session_id,
                organization_id=org,
                status="running",
                image="skiff-sandbox:latest",
                cpu=1.0,
                memory_mb=512,
                network="none",
                timeout_seconds=3600,
                idle_timeout_seconds=300,
                env={},
                metadata_={},
                runner_id=None,
                credits_used=0,
                active_seconds=0.0,
                created_at=long_ago,
                status_changed_at=long_ago,
            )
        )
        await db.flush()
        db.add(
            Task(
                id=task_id,
                session_id=session_id,
                organization_id=org,
                status="queued",
                command="echo lost",
                env={},
                timeout_seconds=60,
                stdout="",
                stderr="",
                truncated=False,
                created_at=long_ago,
            )
        )
    return task_id


class _EndOfTest(BaseException):
    """Ends a reaper loop that ignored its cancellation (so a failing test does not hang)."""


async def test_the_reaper_stops_even_when_a_pass_swallows_its_cancellation(
    make_settings: Any, sessions: async_sessionmaker[AsyncSession], nc: NATS
) -> None:
    """Python 3.11's `wait_for` (inside nats-py) can eat a cancel; the loop must stop anyway.

    A reaper that ran on after its app stopped kept a test process's orchestrator alive,
    and that zombie acknowledged other stacks' events as unknown sessions.
    """
    settings = make_settings()
    reaper = Reaper(nc=nc, session_factory=sessions, live=None, settings=settings)  # type: ignore[arg-type]
    swallowed = asyncio.Event()

    async def a_pass_that_swallows_a_cancel() -> None:
        if swallowed.is_set():
            raise _EndOfTest  # the loop went on after the cancel: let the test end
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            swallowed.set()  # and return normally, as the 3.11 race does

    reaper.reap = a_pass_that_swallows_a_cancel  # type: ignore[method-assign]
    running = asyncio.create_task(reaper.run())
    await asyncio.sleep(0.05)
    running.cancel()

    with contextlib.suppress(asyncio.CancelledError, _EndOfTest):
        await asyncio.wait_for(running, 2)

    assert swallowed.is_set()
    assert running.cancelled(), "the reaper ran another pass after it was cancelled"
