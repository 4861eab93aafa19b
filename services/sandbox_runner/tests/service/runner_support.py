"""Driving a runner as the orchestrator does, and reading what it emits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from skiff_contracts import Envelope, EventPayload, new_id
from skiff_contracts.events.orchestrator import (
    SandboxSpec,
    SessionRequested,
    SessionStopRequested,
)
from skiff_contracts.events.sandbox import SandboxStarted, TaskCompleted
from skiff_contracts.live import LIVE_STREAM, PLACEMENT_BUCKET, LiveEvent, Placement
from skiff_contracts.rpc.sandbox import ExecAccepted, ExecRequest, runner_subject
from skiff_messaging.rpc import request
from skiff_testing.bus import eventually, publish, stream_envelopes

P = TypeVar("P", bound=EventPayload)
R = TypeVar("R")


def spec(**overrides: Any) -> SandboxSpec:
    """The default session spec (what a warm sandbox has), with `overrides`."""
    values: dict[str, Any] = {
        "image": "skiff-sandbox:latest",
        "cpu": 1.0,
        "memory_mb": 512,
        "network": "none",
        "timeout_seconds": 3600,
        "idle_timeout_seconds": 600,
    }
    return SandboxSpec(**{**values, **overrides})


def requested(org: str | None = None, **spec_overrides: Any) -> SessionRequested:
    return SessionRequested(
        session_id=new_id("ses"),
        organization_id=org or new_id("org"),
        spec=spec(**spec_overrides),
        requested_at=datetime.now(UTC),
    )


def from_orchestrator(payload: EventPayload, organization_id: str) -> Envelope:
    return Envelope.wrap(
        payload, source="skiff/orchestrator", subject=None, organization_id=organization_id
    )


async def events(js: JetStreamContext, kind: type[P], session_id: str) -> list[P]:
    """Every `kind` event about `session_id` on SANDBOX, oldest first."""
    found = []
    for envelope in await stream_envelopes(js, "SANDBOX"):
        if envelope.type == kind.event_type:
            payload = envelope.payload(kind)
            if getattr(payload, "session_id", None) == session_id:
                found.append(payload)
    return found


async def sandbox_types(js: JetStreamContext, session_id: str) -> list[str]:
    """The types of SANDBOX events about `session_id`, in stream order."""
    return [
        envelope.type
        for envelope in await stream_envelopes(js, "SANDBOX")
        if envelope.subject in (session_id,)
    ]


async def wait_for(js: JetStreamContext, kind: type[P], session_id: str, count: int = 1) -> P:
    """The `count`-th `kind` event about the session, once it is on SANDBOX."""

    async def arrived() -> bool:
        return len(await events(js, kind, session_id)) >= count

    await eventually(arrived, within=15, what=f"{kind.event_type} of {session_id}")
    return (await events(js, kind, session_id))[count - 1]


async def start(
    js: JetStreamContext, org: str | None = None, **spec_overrides: Any
) -> SessionRequested:
    """Request a session and wait until a runner started it."""
    payload = requested(org, **spec_overrides)
    await publish(js, from_orchestrator(payload, payload.organization_id))
    await wait_for(js, SandboxStarted, payload.session_id)
    return payload


async def stop(js: JetStreamContext, session: SessionRequested, runner_id: str) -> None:
    payload = SessionStopRequested(
        session_id=session.session_id,
        organization_id=session.organization_id,
        runner_id=runner_id,
        reason="requested",
        requested_at=datetime.now(UTC),
    )
    await publish(js, from_orchestrator(payload, session.organization_id))


async def rpc(nc: NATS, runner_id: str, verb: str, body: msgspec.Struct, reply: type[R]) -> R:
    return await request(nc, runner_subject(runner_id, verb), body, reply, timeout=10)


async def exec_task(
    nc: NATS,
    runner_id: str,
    session: SessionRequested,
    command: str,
    **options: Any,
) -> str:
    """Run `command` in the session; the task id."""
    task_id = new_id("tsk")
    body = ExecRequest(
        task_id=task_id,
        session_id=session.session_id,
        organization_id=session.organization_id,
        command=command,
        timeout_seconds=options.pop("timeout_seconds", 60),
        **options,
    )
    accepted = await rpc(nc, runner_id, "exec", body, ExecAccepted)
    assert accepted.task_id == task_id
    return task_id


async def completed(js: JetStreamContext, session_id: str, task_id: str) -> TaskCompleted:
    """The task's `sandbox.task.completed`, once it is on SANDBOX."""

    async def done() -> list[TaskCompleted]:
        return [t for t in await events(js, TaskCompleted, session_id) if t.task_id == task_id]

    async def arrived() -> bool:
        return bool(await done())

    await eventually(arrived, within=20, what=f"task {task_id} completed")
    return (await done())[0]


async def live(
    js: JetStreamContext, session_id: str, task_id: str | None = None
) -> list[LiveEvent]:
    """LIVE events of a task (or of the session itself when `task_id` is None), in order."""
    info = await js.stream_info(LIVE_STREAM)
    subject = f"live.{session_id}.{task_id or 'session'}"
    found = []
    if info.state.messages == 0:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(LIVE_STREAM, seq)
        if message.subject == subject:
            found.append(msgspec.json.decode(message.data or b"", type=LiveEvent))
    return found


async def placement(js: JetStreamContext, session_id: str) -> Placement | None:
    bucket = await js.key_value(PLACEMENT_BUCKET)
    try:
        entry = await bucket.get(session_id)
    except KeyNotFoundError:
        return None
    if not entry.value:
        return None
    return msgspec.json.decode(entry.value, type=Placement)
