"""Commands to the sandbox-runner that holds a session (`rpc.sandbox.<runner_id>.<verb>`)."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from nats.aio.client import Client as NATS
from skiff_contracts.rpc import sandbox as contract
from skiff_kit.errors import BadGateway, PayloadTooLarge, SkiffError
from skiff_messaging.errors import RemoteError, RequestFailed, RequestTooLarge
from skiff_messaging.rpc import request

from skiff_orchestrator.errors import RunnerUnavailable, SessionNotRunning, TaskNotRunning

R = TypeVar("R")


class RunnerClient:
    """Sends one runner its commands and turns its answers into the API's errors."""

    def __init__(self, nc: NATS, *, timeout: float) -> None:
        self.nc = nc
        self.timeout = timeout

    async def exec(self, runner_id: str, body: contract.ExecRequest) -> contract.ExecAccepted:
        return await self._call(runner_id, "exec", body, contract.ExecAccepted)

    async def cancel(self, runner_id: str, session_id: str, task_id: str) -> contract.Done:
        ref = contract.TaskRef(session_id=session_id, task_id=task_id)
        return await self._call(runner_id, "cancel", ref, contract.Done)

    async def stdin(self, runner_id: str, body: contract.StdinRequest) -> contract.Done:
        return await self._call(runner_id, "stdin", body, contract.Done)

    async def session_command(self, runner_id: str, verb: str, session_id: str) -> contract.Done:
        """pause, resume or touch."""
        ref = contract.SessionRef(session_id=session_id)
        return await self._call(runner_id, verb, ref, contract.Done)

    async def _call(self, runner_id: str, verb: str, body: msgspec.Struct, reply: type[R]) -> R:
        subject = contract.runner_subject(runner_id, verb)
        try:
            return await request(self.nc, subject, body, reply, timeout=self.timeout)
        except RemoteError as exc:
            raise _translated(exc) from exc
        except RequestTooLarge as exc:
            raise PayloadTooLarge(
                f"The command is too large to send to its sandbox ({exc.size} bytes; at most "
                f"{exc.limit}).",
                details={"size": exc.size, "max_bytes": exc.limit},
            ) from exc
        except RequestFailed as exc:
            raise RunnerUnavailable(details={"runner_id": runner_id, "reason": str(exc)}) from exc


def _translated(exc: RemoteError) -> SkiffError:
    if exc.code in (contract.SESSION_NOT_RUNNING, contract.SESSION_NOT_FOUND):
        return SessionNotRunning(
            f"The sandbox cannot do that now: {exc.remote_message}",
            details={"runner_code": exc.code},
        )
    if exc.code == contract.TASK_NOT_FOUND:
        return TaskNotRunning(details={"runner_code": exc.code})
    return BadGateway(
        f"The sandbox runner refused: {exc.remote_message}",
        code="runner_error",
        details={"runner_code": exc.code},
    )
