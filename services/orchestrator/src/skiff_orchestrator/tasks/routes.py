"""Task routes: run a command in a session (optionally waiting), list, show and cancel tasks."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from skiff_contracts import new_id
from skiff_contracts.live import task_subject
from skiff_kit.db import DbSession
from skiff_kit.errors import SkiffError
from skiff_kit.idempotency import Idempotency, claim
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.access import may_read, may_write
from skiff_orchestrator.live.feed import live_feed
from skiff_orchestrator.models import TERMINAL_TASK_STATUSES, Session, Task
from skiff_orchestrator.params import SessionId, TaskId
from skiff_orchestrator.runtime import CurrentRuntime, Runtime
from skiff_orchestrator.sessions import service as sessions
from skiff_orchestrator.tasks import repository, service
from skiff_orchestrator.tasks.presenter import task_out, task_result, task_summary
from skiff_orchestrator.tasks.schemas import CreateTask, TaskOut, TaskResult, TaskSummary
from skiff_orchestrator.tasks.validation import TaskSpec, task_spec
from skiff_orchestrator.tasks.waiting import result_of

TaskStatus = Annotated[
    str | None,
    QueryParameter(
        pattern="^(queued|running|succeeded|failed|cancelled|timed_out)$",
        description="Only tasks in this status.",
    ),
]
RUN_RESPONSES = {
    202: ResponseSpec(
        TaskOut,
        description="Queued (or, with `?wait=true`, still running)",
        generate_examples=False,
    ),
    200: ResponseSpec(
        TaskResult, description="With `?wait=true`: the task ended", generate_examples=False
    ),
    **errors(409),
}


class SessionTasksController(Controller):
    path = "/api/v1/sessions/{session_id:str}/tasks"
    tags = ["tasks"]

    @post("/", status_code=202, responses=RUN_RESPONSES)
    async def run(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        idempotency: Idempotency,
        session_id: SessionId,
        data: JSONBody[CreateTask],
        wait: Annotated[bool, QueryParameter(description="Answer when the task ended.")] = False,
    ) -> Response[Any]:
        """Run a command in the session (202 queued; with `?wait=true`, 200 and its result).

        A retry with the same `Idempotency-Key` never runs the command again: it answers the
        task the first request created, as it is now (and, with `?wait=true`, waits for it).
        """
        may_write(principal)
        spec = task_spec(data, runtime.settings)
        task_id = new_id("tsk")
        remembered = await claim(
            db_session,
            organization_id=principal.organization_id,
            request=idempotency,
            resource_id=task_id,
        )
        if remembered is not None:
            task_id = remembered.resource_id

        async def queued_task() -> tuple[Session, Task]:
            session = await sessions.get(db_session, principal.organization_id, session_id)
            if remembered is not None:
                task = await service.get(db_session, principal.organization_id, task_id)
            else:
                task = await service.queue(
                    db_session, principal=principal, session=session, spec=spec, task_id=task_id
                )
            await db_session.commit()
            return session, task

        if not wait:
            session, task = await queued_task()
            queued = task_out(task)  # as it was queued: the hand-over below changes the row
            await _hand_over(db_session, runtime, session, task, spec)
            return Response(queued, status_code=202)
        async with contextlib.AsyncExitStack() as stack:
            # Subscribed (to a task id chosen here) while the row is written: both come first.
            subscribing = asyncio.ensure_future(
                stack.enter_async_context(
                    live_feed(runtime.nats, task_subject(session_id, task_id), after=None)
                )
            )
            try:
                session, task = await queued_task()
            finally:
                feed = await subscribing  # owned by the stack, whatever happened
            queued = task_out(task)
            if task.status in TERMINAL_TASK_STATUSES:
                return Response(task_result(task), status_code=200)
            await _hand_over(db_session, runtime, session, task, spec)
            result = await result_of(
                feed,
                task.id,
                within=min(
                    spec.timeout_seconds + runtime.settings.task_wait_margin_seconds,
                    runtime.settings.task_wait_max_seconds,
                ),
                poll=runtime.settings.stream_heartbeat_seconds,
                output_limit=runtime.settings.task_output_limit_bytes,
                load=lambda: runtime.load_task(task.id),
            )
        if result is None:  # still running: where it stands, as without `wait`
            current = await runtime.load_task(task.id)
            return Response(task_out(current) if current else queued, status_code=202)
        return Response(result, status_code=200)

    @get("/")
    async def list_tasks(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        session_id: SessionId,
        status: TaskStatus = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[TaskSummary]:
        """The session's tasks, newest first (without their output); `?status=` filters."""
        may_read(principal)
        session = await sessions.get(db_session, principal.organization_id, session_id)
        rows = await repository.page_of_session(
            db_session,
            session.id,
            status=status,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(rows, limit=limit, to_item=task_summary, id_of=lambda row: row.id)


async def _hand_over(
    db_session: AsyncSession, runtime: Runtime, session: Session, task: Task, spec: TaskSpec
) -> None:
    """Dispatch a task the runner has not accepted yet (a repeat is harmless: the runner
    starts a task id once). A refused dispatch names the (now failed) task."""
    if task.status != "queued" or task.accepted_at is not None:
        return
    try:
        await service.dispatch(db_session, runtime.runners(), session, task, spec)
    except SkiffError as exc:
        exc.details = {**exc.details, "task_id": task.id}
        raise


class TasksController(Controller):
    path = "/api/v1/tasks"
    tags = ["tasks"]

    @get("/{task_id:str}")
    async def show(
        self, principal: CurrentPrincipal, db_session: DbSession, task_id: TaskId
    ) -> TaskOut:
        """One task: status, exit code, bounded output, timings."""
        may_read(principal)
        return task_out(await service.get(db_session, principal.organization_id, task_id))

    @post("/{task_id:str}/cancel", status_code=202, responses=errors(409))
    async def cancel(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        runtime: CurrentRuntime,
        task_id: TaskId,
    ) -> TaskOut:
        """Signal the task's process; its final status (`cancelled`) follows."""
        may_write(principal)
        task = await service.get(db_session, principal.organization_id, task_id)
        await service.cancel(db_session, runtime.runners(), task)
        current = await runtime.load_task(task.id)
        return task_out(current or task)
