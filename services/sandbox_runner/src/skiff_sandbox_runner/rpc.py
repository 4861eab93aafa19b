"""Request/reply commands of this runner: `rpc.sandbox.<runner_id>.<verb>`.

Errors answer with the codes of `skiff_contracts.rpc.sandbox`: `session_not_found` (not held
here, or another organization's), `session_not_running` (paused or stopping),
`task_not_found`; and `sandbox_error` when the backend fails to pause or resume.
"""

from __future__ import annotations

from skiff_contracts.rpc.sandbox import (
    Done,
    ExecAccepted,
    ExecRequest,
    SessionRef,
    StdinRequest,
    TaskRef,
    runner_subject,
)
from skiff_messaging.service_bus import Responder

from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.service import SandboxRunner
from skiff_sandbox_runner.sessions import pause as pausing
from skiff_sandbox_runner.tasks import service as tasks
from skiff_sandbox_runner.tasks.service import held_session


def responders(runner: SandboxRunner) -> list[Responder]:
    """One responder per verb, on this runner's own subjects."""

    async def exec_(request: ExecRequest) -> ExecAccepted:
        return await tasks.exec_task(await runner.runtime(), request)

    async def cancel(request: TaskRef) -> Done:
        return await tasks.cancel_task(await runner.runtime(), request)

    async def stdin(request: StdinRequest) -> Done:
        return await tasks.write_stdin(await runner.runtime(), request)

    async def pause(request: SessionRef) -> Done:
        rt = await runner.runtime()
        return Done(status=await pausing.pause(rt, held_session(rt, request.session_id)))

    async def resume(request: SessionRef) -> Done:
        rt = await runner.runtime()
        return Done(status=await pausing.resume(rt, held_session(rt, request.session_id)))

    async def touch(request: SessionRef) -> Done:
        held = held_session(await runner.runtime(), request.session_id)
        held.touch(utcnow())
        return Done(status=held.status)

    def subject(verb: str) -> str:
        return runner_subject(runner.runner_id, verb)

    return [
        Responder(subject("exec"), ExecRequest, exec_),
        Responder(subject("cancel"), TaskRef, cancel),
        Responder(subject("stdin"), StdinRequest, stdin),
        Responder(subject("pause"), SessionRef, pause),
        Responder(subject("resume"), SessionRef, resume),
        Responder(subject("touch"), SessionRef, touch),
    ]
