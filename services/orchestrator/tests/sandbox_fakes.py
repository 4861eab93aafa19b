"""Stand-ins for a sandbox-runner and for billing that speak exactly their contracts on NATS.

`FakeRunner` registers in KV `sandbox-runners`, starts sessions it is asked for
(`orchestrator.session.requested` → `sandbox.session.started`), stops them, answers
`rpc.sandbox.<runner_id>.<verb>`, and "runs" a few scripted commands, publishing LIVE events
and `sandbox.task.*` as the real runner will (billing's stand-in is in `billing_fake`).

Scripted commands: `echo <text>`, `count <n>` (n lines), `fail` (stderr, exit 1), `cat`
(echoes stdin until eof), `sleep` (until cancelled).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from nats.aio.client import Client as NATS
from nats.js.api import ConsumerConfig, DeliverPolicy
from skiff_contracts import Envelope, EventPayload, decode_envelope
from skiff_contracts.events.orchestrator import SessionRequested, SessionStopRequested
from skiff_contracts.events.sandbox import (
    SandboxPaused,
    SandboxResumed,
    SandboxStarted,
    SandboxStopped,
    TaskCompleted,
    TaskStarted,
)
from skiff_contracts.live import RUNNERS_BUCKET, LiveEvent, RunnerInfo, task_subject
from skiff_contracts.rpc import sandbox as rpc
from skiff_messaging.errors import ReplyError
from skiff_messaging.rpc import serve


def now() -> datetime:
    return datetime.now(UTC)


async def publish_event(nc: NATS, payload: EventPayload, *, source: str, org: str) -> Envelope:
    """Publish as a service's outbox relay does (stream subject = type, Nats-Msg-Id = id)."""
    envelope = Envelope.wrap(payload, source=source, organization_id=org)
    await nc.jetstream().publish(
        envelope.type, envelope.encode(), headers={"Nats-Msg-Id": envelope.id}
    )
    return envelope


async def publish_live(nc: NATS, subject: str, event: LiveEvent) -> int:
    """Publish one live event; its LIVE sequence."""
    ack = await nc.jetstream().publish(subject, msgspec.json.encode(event))
    return int(ack.seq)


@dataclass
class FakeProcess:
    request: rpc.ExecRequest
    stdin: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


class FakeRunner:
    """One sandbox-runner as seen from the bus."""

    def __init__(self, nc: NATS, runner_id: str = "runner-1", *, auto_start: bool = True) -> None:
        self.nc = nc
        self.runner_id = runner_id
        self.auto_start = auto_start
        self.held: dict[str, str] = {}  # session_id -> organization_id
        self.paused: set[str] = set()
        self.requested: list[SessionRequested] = []
        self.stop_requests: list[SessionStopRequested] = []
        self.execs: list[rpc.ExecRequest] = []
        self.touches: list[str] = []
        self.stdin_writes: list[rpc.StdinRequest] = []
        self.processes: dict[str, FakeProcess] = {}
        self._subscriptions: list[Any] = []
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> FakeRunner:
        await self.register()
        heartbeat = asyncio.create_task(self._heartbeat())
        self._running.add(heartbeat)
        for verb, request_type, handler in (
            ("exec", rpc.ExecRequest, self._exec),
            ("cancel", rpc.TaskRef, self._cancel),
            ("stdin", rpc.StdinRequest, self._stdin),
            ("pause", rpc.SessionRef, self._pause),
            ("resume", rpc.SessionRef, self._resume),
            ("touch", rpc.SessionRef, self._touch),
        ):
            subject = rpc.runner_subject(self.runner_id, verb)
            self._subscriptions.append(
                await serve(self.nc, subject, request_type, handler, queue="sandbox_runner")
            )
        self._subscriptions.append(
            await self.nc.jetstream().subscribe(
                "orchestrator.session.>",
                stream="ORCHESTRATOR",
                cb=self._on_orchestrator_event,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
                manual_ack=True,
            )
        )
        return self

    async def close(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        for task in self._running:
            task.cancel()

    async def register(self) -> None:
        js = self.nc.jetstream()
        try:
            bucket = await js.key_value(RUNNERS_BUCKET)
        except Exception:
            bucket = await js.create_key_value(bucket=RUNNERS_BUCKET, ttl=10, history=1)
        info = RunnerInfo(
            runner_id=self.runner_id, url="http://127.0.0.1:1", backend="local", heartbeat_at=now()
        )
        await bucket.put(self.runner_id, msgspec.json.encode(info))

    async def _heartbeat(self) -> None:
        """Refresh the registry entry every 2 s, as runners do (the bucket's TTL is 10 s)."""
        while True:
            await asyncio.sleep(2)
            await self.register()

    async def vanish(self) -> None:
        """Stop answering and drop out of the registry, as a crashed runner does."""
        await self.close()
        bucket = await self.nc.jetstream().key_value(RUNNERS_BUCKET)
        await bucket.delete(self.runner_id)

    # Sessions ------------------------------------------------------------------------------

    async def _on_orchestrator_event(self, msg: Any) -> None:
        envelope = decode_envelope(msg.data)
        if envelope.type == SessionRequested.event_type:
            requested: SessionRequested = envelope.payload(SessionRequested)
            self.requested.append(requested)
            if self.auto_start:
                await self.start_session(requested.session_id, requested.organization_id)
        elif envelope.type == SessionStopRequested.event_type:
            stop: SessionStopRequested = envelope.payload(SessionStopRequested)
            self.stop_requests.append(stop)
            if stop.session_id in self.held:
                await self.stop_session(stop.session_id, reason=stop.reason)
        await msg.ack()

    async def start_session(self, session_id: str, org: str) -> None:
        self.held[session_id] = org
        started = SandboxStarted(
            session_id=session_id,
            organization_id=org,
            runner_id=self.runner_id,
            backend="local",
            warm=False,
            started_at=now(),
        )
        await publish_event(self.nc, started, source="skiff/sandbox-runner", org=org)

    async def stop_session(self, session_id: str, *, reason: str = "requested") -> None:
        org = self.held.pop(session_id)
        stopped = SandboxStopped(
            session_id=session_id,
            organization_id=org,
            runner_id=self.runner_id,
            reason=reason,
            active_seconds=1.5,
            stopped_at=now(),
        )
        await publish_event(self.nc, stopped, source="skiff/sandbox-runner", org=org)

    def _held(self, session_id: str) -> str:
        if session_id not in self.held:
            raise ReplyError(rpc.SESSION_NOT_FOUND, "this runner does not hold the session")
        if session_id in self.paused:
            raise ReplyError(rpc.SESSION_NOT_RUNNING, "the session is paused")
        return self.held[session_id]

    async def _pause(self, ref: rpc.SessionRef) -> rpc.Done:
        org = self._held(ref.session_id)
        self.paused.add(ref.session_id)
        event = SandboxPaused(
            session_id=ref.session_id,
            organization_id=org,
            runner_id=self.runner_id,
            paused_at=now(),
        )
        await publish_event(self.nc, event, source="skiff/sandbox-runner", org=org)
        return rpc.Done(status="paused")

    async def _resume(self, ref: rpc.SessionRef) -> rpc.Done:
        if ref.session_id not in self.paused:
            raise ReplyError(rpc.SESSION_NOT_RUNNING, "the session is not paused")
        self.paused.discard(ref.session_id)
        org = self.held[ref.session_id]
        event = SandboxResumed(
            session_id=ref.session_id,
            organization_id=org,
            runner_id=self.runner_id,
            resumed_at=now(),
        )
        await publish_event(self.nc, event, source="skiff/sandbox-runner", org=org)
        return rpc.Done(status="running")

    async def _touch(self, ref: rpc.SessionRef) -> rpc.Done:
        if ref.session_id not in self.held:
            raise ReplyError(rpc.SESSION_NOT_FOUND, "this runner does not hold the session")
        self.touches.append(ref.session_id)
        return rpc.Done(status="running")

    # Tasks ---------------------------------------------------------------------------------

    async def _exec(self, request: rpc.ExecRequest) -> rpc.ExecAccepted:
        self._held(request.session_id)
        self.execs.append(request)
        process = FakeProcess(request=request)
        if request.stdin is not None:  # the whole input, then end of file
            process.stdin.put_nowait(request.stdin.decode())
            process.stdin.put_nowait(None)
        self.processes[request.task_id] = process
        task = asyncio.create_task(self._run(process))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return rpc.ExecAccepted(task_id=request.task_id, started_at=now())

    async def _cancel(self, ref: rpc.TaskRef) -> rpc.Done:
        process = self.processes.get(ref.task_id)
        if process is None or ref.session_id not in self.held:
            raise ReplyError(rpc.TASK_NOT_FOUND, "no such running task")
        process.cancelled.set()
        return rpc.Done(status="cancelled")

    async def _stdin(self, request: rpc.StdinRequest) -> rpc.Done:
        process = self.processes.get(request.task_id)
        if process is None:
            raise ReplyError(rpc.TASK_NOT_FOUND, "no such running task")
        self.stdin_writes.append(request)
        if request.data:
            process.stdin.put_nowait(request.data.decode())
        if request.eof:
            process.stdin.put_nowait(None)
        return rpc.Done(status="running")

    async def _run(self, process: FakeProcess) -> None:
        request = process.request
        subject = task_subject(request.session_id, request.task_id)
        base = {"session_id": request.session_id, "task_id": request.task_id}
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        seq = 0

        async def emit(stream: str, data: str) -> None:
            nonlocal seq
            seq += 1
            out[stream].append(data)
            live = LiveEvent(kind="output", stream=stream, data=data, seq=seq, at=now(), **base)
            await publish_live(self.nc, subject, live)

        await publish_live(
            self.nc, subject, LiveEvent(kind="status", status="running", at=now(), **base)
        )
        org = request.organization_id
        started = TaskStarted(
            task_id=request.task_id,
            session_id=request.session_id,
            organization_id=org,
            started_at=now(),
        )
        await publish_event(self.nc, started, source="skiff/sandbox-runner", org=org)
        word, _, rest = request.command.partition(" ")
        status, exit_code = "succeeded", 0
        if word == "echo":
            await emit("stdout", rest + "\n")
        elif word == "count":
            for i in range(1, int(rest) + 1):
                await emit("stdout", f"line {i}\n")
        elif word == "fail":
            await emit("stderr", "boom\n")
            status, exit_code = "failed", 1
        elif word == "cat":
            while (chunk := await process.stdin.get()) is not None:
                await emit("stdout", chunk)
        elif word == "sleep":
            await process.cancelled.wait()
            status, exit_code = "cancelled", None  # type: ignore[assignment]
        await self.finish(process, status, exit_code, out)

    async def finish(
        self, process: FakeProcess, status: str, exit_code: int | None, out: dict[str, list[str]]
    ) -> None:
        request = process.request
        base = {"session_id": request.session_id, "task_id": request.task_id}
        final = LiveEvent(
            kind="status", status=status, exit_code=exit_code, duration_ms=7, at=now(), **base
        )
        await publish_live(self.nc, task_subject(request.session_id, request.task_id), final)
        completed = TaskCompleted(
            task_id=request.task_id,
            session_id=request.session_id,
            organization_id=request.organization_id,
            status=status,
            exit_code=exit_code,
            stdout="".join(out["stdout"]),
            stderr="".join(out["stderr"]),
            truncated=False,
            duration_ms=7,
            finished_at=now(),
        )
        await publish_event(
            self.nc, completed, source="skiff/sandbox-runner", org=request.organization_id
        )
        self.processes.pop(request.task_id, None)
