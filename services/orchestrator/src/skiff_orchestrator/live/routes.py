"""SSE streams: a task's output and status, and everything live about a session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Literal

import msgspec
from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.response import ServerSentEvent, ServerSentEventMessage
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal

from skiff_orchestrator.access import may_read
from skiff_orchestrator.live import items
from skiff_orchestrator.live.follow import follow_session, follow_task
from skiff_orchestrator.live.touch import touching
from skiff_orchestrator.params import LastEventId, LastEventIdQuery, SessionId, TaskId
from skiff_orchestrator.runtime import CurrentRuntime, Runtime
from skiff_orchestrator.sessions import service as sessions
from skiff_orchestrator.tasks import service as tasks


def _messages(
    runtime: Runtime, session_id: str, stream: AsyncGenerator[items.StreamItem, None]
) -> AsyncIterator[ServerSentEventMessage]:
    async def generate() -> AsyncIterator[ServerSentEventMessage]:
        # `stream` is closed here, not by the garbage collector: it holds a LIVE subscription.
        async with (
            contextlib.aclosing(stream),
            touching(
                runtime.runners(),
                session_id,
                lambda: runtime.runner_of(session_id),
                every=runtime.settings.stream_touch_seconds,
            ),
        ):
            async for item in stream:
                yield ServerSentEventMessage(data=item.json(), event=item.event, id=item.id)

    return generate()


class StreamEvent(msgspec.Struct, kw_only=True):
    """One server-sent event: `data` is JSON (docs/sandboxes.md, "Tasks and live output")."""

    event: Literal["output", "status", "heartbeat", "end"]
    data: str
    id: str | None = None  # the LIVE sequence; `Last-Event-ID: <id>` resumes after it


EVENT_STREAM = {
    200: ResponseSpec(
        StreamEvent,
        description="Server-sent events (`id:` is the LIVE sequence; `Last-Event-ID` resumes)",
        media_type="text/event-stream",
        generate_examples=False,
    )
}


class TaskStreamController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]

    @get("/{task_id:str}/stream", responses=EVENT_STREAM)
    async def stream(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        task_id: TaskId,
        last_event_id_header: LastEventId = None,
        last_event_id: LastEventIdQuery = None,
    ) -> ServerSentEvent:
        """SSE of one task: `output`, `status`, `heartbeat`, then `end`; Last-Event-ID resumes."""
        may_read(principal)
        after = items.resume_point(last_event_id_header, last_event_id)
        task = await tasks.get(db_session, principal.organization_id, task_id)
        follow = follow_task(
            runtime.nats,
            task,
            after=after,
            heartbeat=runtime.settings.stream_heartbeat_seconds,
            load=lambda: runtime.load_task(task_id),
        )
        return ServerSentEvent(_messages(runtime, task.session_id, follow))


class SessionEventsController(Controller):
    path = "/api/v1/sessions"
    tags = ["sessions"]

    @get("/{session_id:str}/events", responses=EVENT_STREAM)
    async def events(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        session_id: SessionId,
        last_event_id_header: LastEventId = None,
        last_event_id: LastEventIdQuery = None,
    ) -> ServerSentEvent:
        """SSE of everything in the session: its status and its tasks' output and status."""
        may_read(principal)
        after = items.resume_point(last_event_id_header, last_event_id)
        session = await sessions.get(db_session, principal.organization_id, session_id)
        follow = follow_session(
            runtime.nats,
            session,
            after=after,
            heartbeat=runtime.settings.stream_heartbeat_seconds,
            load=lambda: runtime.load_session(session_id),
        )
        return ServerSentEvent(_messages(runtime, session.id, follow))
