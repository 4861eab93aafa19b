"""Commands the orchestrator sends to the one sandbox-runner that holds a session.

Each runner answers on `rpc.sandbox.<runner_id>.<verb>`. Errors come back as a ReplyError
with one of the codes below, which the orchestrator maps to HTTP answers.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

# ReplyError codes a runner may answer with.
SESSION_NOT_FOUND = "session_not_found"  # this runner does not hold the session
SESSION_NOT_RUNNING = "session_not_running"  # paused, stopping or stopped: 409 to the user
TASK_NOT_FOUND = "task_not_found"  # no such running task on this runner


def runner_subject(runner_id: str, verb: str) -> str:
    """`rpc.sandbox.<runner_id>.<verb>`; verbs: exec, cancel, stdin, pause, resume, touch."""
    return f"rpc.sandbox.{runner_id}.{verb}"


class ExecRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Run `command` with `/bin/sh -c` in the session's workspace (cwd relative to it).

    `stdin` travels as bytes (base64 in JSON: a third larger, whatever the content), so its
    size on the bus is known from its length alone.
    """

    task_id: str
    session_id: str
    organization_id: str
    command: str
    env: dict[str, str] = {}
    cwd: str | None = None
    stdin: bytes | None = None
    timeout_seconds: int


class ExecAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """The process started; output follows on the live stream."""

    task_id: str
    started_at: datetime


class TaskRef(msgspec.Struct, frozen=True, kw_only=True):
    """One task of one session (cancel)."""

    session_id: str
    task_id: str


class StdinRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Write `data` to a running task's stdin; `eof` closes it afterwards (bytes, as stdin)."""

    session_id: str
    task_id: str
    data: bytes = b""
    eof: bool = False


class SessionRef(msgspec.Struct, frozen=True, kw_only=True):
    """One session (pause, resume, touch)."""

    session_id: str


class Done(msgspec.Struct, frozen=True, kw_only=True):
    """A command was carried out; `status` is the session's or task's status afterwards."""

    status: str
