"""A session's WebSocket: run commands, feed stdin, cancel, and receive the session's events.

The gateway opens this socket with its internal token, like any request. Outbound messages are
`{"type": <event>, "id": <LIVE seq>, "data": {...}}` (the SSE events), `{"type": "ack",
"task_id": ...}` once an exec is queued (before any event of that task), and
`{"type": "error", ...}` in the API error shape. Auth or lookup failures close the socket
with 4000 + the HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

import msgspec
import structlog
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from skiff_contracts.live import LIVE_STREAM
from skiff_contracts.rpc.sandbox import StdinRequest
from skiff_kit.errors import BadRequest, SkiffError, ValidationFailed
from skiff_kit.internal_token import Principal, provide_principal

from skiff_orchestrator.access import may_read, may_write
from skiff_orchestrator.errors import TaskNotRunning
from skiff_orchestrator.live import items
from skiff_orchestrator.live.follow import follow_session
from skiff_orchestrator.live.touch import touching
from skiff_orchestrator.live.ws_messages import Cancel, Exec, Stdin, decode_inbound
from skiff_orchestrator.models import Session
from skiff_orchestrator.params import SessionId
from skiff_orchestrator.runtime import CurrentRuntime, Runtime
from skiff_orchestrator.sessions import service as sessions
from skiff_orchestrator.sessions.service import require_running
from skiff_orchestrator.tasks import service as tasks
from skiff_orchestrator.tasks.schemas import CreateTask
from skiff_orchestrator.tasks.validation import task_spec

log = structlog.get_logger("skiff_orchestrator.websocket")
AnySocket = WebSocket[Any, Any, Any]


class _Conversation:
    """One open socket: who is on it, which session, and the last task it started."""

    def __init__(self, socket: AnySocket, runtime: Runtime, principal: Principal, session: Session):
        self.socket = socket
        self.runtime = runtime
        self.principal = principal
        self.session_id = session.id
        self.last_task_id: str | None = None
        self.sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.socket.send_text(msgspec.json.encode(message).decode())

    async def send_error(self, exc: SkiffError) -> None:
        await self.send(
            {
                "type": "error",
                "error": exc.message,
                "code": exc.code,
                "details": exc.details,
                "request_id": self.principal.request_id or "",
            }
        )

    async def handle(self, raw: str | bytes) -> None:
        try:
            message = decode_inbound(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise BadRequest(f"Invalid message: {exc}", code="invalid_message") from exc
        may_write(self.principal)
        if isinstance(message, Exec):
            await self.exec(message)
        elif isinstance(message, Stdin):
            await self.stdin(message)
        elif isinstance(message, Cancel):
            await self.cancel(message)

    async def exec(self, message: Exec) -> None:
        body = CreateTask(**{f: getattr(message, f) for f in CreateTask.__struct_fields__})
        spec = task_spec(body, self.runtime.settings)
        async with self.runtime.sessions() as db_session:
            session = await sessions.get(
                db_session, self.principal.organization_id, self.session_id
            )
            task = await tasks.queue(
                db_session, principal=self.principal, session=session, spec=spec
            )
            await db_session.commit()
            self.last_task_id = task.id
            # Acknowledged before it is handed over, so the id is known before any event of it.
            await self.send({"type": "ack", "task_id": task.id, "status": "queued"})
            try:
                await tasks.dispatch(db_session, self.runtime.runners(), session, task, spec)
            except SkiffError as exc:
                exc.details = {**exc.details, "task_id": task.id}
                raise

    async def stdin(self, message: Stdin) -> None:
        task_id = self._task_of(message.task_id)
        async with self.runtime.sessions() as db_session:
            session = await sessions.get(
                db_session, self.principal.organization_id, self.session_id
            )
            task = await tasks.get(db_session, self.principal.organization_id, task_id)
            if task.session_id != session.id:
                raise TaskNotRunning("That task is not in this session.")
            runner_id = require_running(session)
        data = message.data.encode()
        limit = self.runtime.settings.task_stdin_max_bytes
        if len(data) > limit:
            raise ValidationFailed(
                f"Validation failed: data must be at most {limit} bytes (UTF-8)",
                details={"fields": [{"field": "data", "message": f"at most {limit} bytes"}]},
            )
        request = StdinRequest(session_id=session.id, task_id=task_id, data=data, eof=message.eof)
        await self.runtime.runners().stdin(runner_id, request)

    async def cancel(self, message: Cancel) -> None:
        task_id = self._task_of(message.task_id)
        async with self.runtime.sessions() as db_session:
            task = await tasks.get(db_session, self.principal.organization_id, task_id)
            if task.session_id != self.session_id:
                raise TaskNotRunning("That task is not in this session.")
            await tasks.cancel(db_session, self.runtime.runners(), task)

    def _task_of(self, task_id: str | None) -> str:
        chosen = task_id or self.last_task_id
        if chosen is None:
            raise BadRequest("Name the task (task_id): none was started on this socket.")
        return chosen

    async def forward_events(self, after: int) -> None:
        """The session's live events to the client; closes the socket after `end`."""
        runtime = self.runtime
        follow = follow_session(
            runtime.nats,
            cast(Session, await runtime.load_session(self.session_id)),
            after=after,
            heartbeat=runtime.settings.stream_heartbeat_seconds,
            load=lambda: runtime.load_session(self.session_id),
        )
        # Closed here, not by the garbage collector: it holds a LIVE subscription.
        async with contextlib.aclosing(follow):
            async for item in follow:
                await self.send({"type": item.event, "id": item.id, "data": item.data})
        await self.socket.close(code=1000, reason="session ended")


async def _open(
    socket: AnySocket, runtime: Runtime, session_id: str
) -> tuple[_Conversation, int] | None:
    """Authenticate and find the session; on failure tell the client and close."""
    try:
        principal = provide_principal(cast(Any, socket))
        may_read(principal)
        async with runtime.sessions() as db_session:
            session = await sessions.get(db_session, principal.organization_id, session_id)
        after = items.resume_point(None, socket.query_params.get("last_event_id"))
        if after is None:  # from now on: what LIVE holds at this instant is history
            after = (await runtime.nats.jetstream().stream_info(LIVE_STREAM)).state.last_seq
    except SkiffError as exc:
        await socket.send_json(
            {
                "type": "error",
                "error": exc.message,
                "code": exc.code,
                "details": exc.details,
                "request_id": "",
            }
        )
        await socket.close(code=4000 + exc.status_code, reason=exc.code)
        return None
    return _Conversation(socket, runtime, principal, session), after


@websocket("/api/v1/sessions/{session_id:str}/ws")
async def session_socket(socket: AnySocket, session_id: SessionId, runtime: CurrentRuntime) -> None:
    """A session's WebSocket (exec, stdin, cancel in; its events out)."""
    await socket.accept()
    opened = await _open(socket, runtime, session_id)
    if opened is None:
        return
    conversation, after = opened
    events = asyncio.create_task(conversation.forward_events(after))
    try:
        async with touching(
            runtime.runners(),
            session_id,
            lambda: runtime.runner_of(session_id),
            every=runtime.settings.stream_touch_seconds,
        ):
            while True:
                data = await socket.receive_data(mode="text")
                try:
                    await conversation.handle(data)
                except SkiffError as exc:
                    await conversation.send_error(exc)
    except WebSocketDisconnect:
        pass
    finally:
        events.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await events
