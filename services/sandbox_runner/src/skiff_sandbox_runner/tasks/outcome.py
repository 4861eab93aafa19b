"""A task's outcome made durable: its row, its transcript and `sandbox.task.completed`.

A small transcript rides whole in the event, committed with the row. A large one (an event
over `INLINE_EVENT_BYTES` once JSON-encoded: control bytes take six) is staged in
`task_outputs` with the row and announced by `StagedOutputs`: the transcript goes to the
Object Store, then the event, with an excerpt of each stream and the object's name. So no
event is ever too large for the bus, and an outage or a crash in between loses nothing.
"""

from __future__ import annotations

import msgspec
from skiff_contracts.events.sandbox import TaskCompleted
from skiff_contracts.rpc.sandbox import ExecRequest

from skiff_sandbox_runner.models import StagedOutput
from skiff_sandbox_runner.outbox import OUTBOX
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import repository
from skiff_sandbox_runner.tasks.execution import Outcome

INLINE_EVENT_BYTES = 64 * 1024


def completed_event(request: ExecRequest, outcome: Outcome) -> TaskCompleted:
    """The whole outcome, transcript included."""
    return TaskCompleted(
        task_id=request.task_id,
        session_id=request.session_id,
        organization_id=request.organization_id,
        status=outcome.status,
        exit_code=outcome.exit_code,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        truncated=outcome.truncated,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        finished_at=outcome.finished_at,
    )


async def record_outcome(rt: Runtime, request: ExecRequest, outcome: Outcome) -> None:
    """Finish the task's row with its event in one transaction, or stage a large transcript."""
    event = completed_event(request, outcome)
    inline = len(msgspec.json.encode(event)) <= INLINE_EVENT_BYTES
    async with rt.sessions() as session, session.begin():
        await repository.finish_task(
            session, request.task_id, status=outcome.status, finished_at=outcome.finished_at
        )
        if inline:
            await OUTBOX.record(
                session, event, subject=request.task_id, organization_id=request.organization_id
            )
        else:
            session.add(
                StagedOutput(
                    task_id=request.task_id,
                    runner_id=rt.runner_id,
                    completed=msgspec.msgpack.encode(event),
                )
            )
    if not inline:
        await rt.outputs.announce(request.task_id)
