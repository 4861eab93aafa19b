"""A task body checked against the operator's bounds, every bad field at once."""

from __future__ import annotations

import msgspec

from skiff_orchestrator.settings import OrchestratorSettings
from skiff_orchestrator.tasks.schemas import CreateTask
from skiff_orchestrator.validation import FieldErrors, check_string_map, json_size


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    command: str
    timeout_seconds: int
    env: dict[str, str]
    cwd: str | None
    stdin: str | None


def task_spec(body: CreateTask, settings: OrchestratorSettings) -> TaskSpec:
    """Defaults filled in; 400 `validation_error` naming each bad field."""
    errors = FieldErrors()
    s = settings
    if not body.command.strip():
        errors.add("command", "must not be empty")
    elif (size := json_size(body.command)) > s.task_command_max_bytes:
        errors.add(
            "command",
            f"is {size} bytes as JSON; at most {s.task_command_max_bytes} bytes are allowed",
        )
    if "\x00" in body.command:
        errors.add("command", "must not contain NUL characters")
    timeout = (
        body.timeout_seconds if body.timeout_seconds is not None else s.task_timeout_default_seconds
    )
    if not 1 <= timeout <= s.task_timeout_max_seconds:
        errors.add("timeout_seconds", f"must be between 1 and {s.task_timeout_max_seconds} seconds")
    env = body.env or {}
    check_string_map(
        errors, "env", env, max_entries=s.session_env_max_entries, max_bytes=s.session_env_max_bytes
    )
    for key in env:
        if not key or "=" in key or "\x00" in key:
            errors.add(f"env.{key}", "is not a valid environment variable name")
    if body.cwd is not None and (not body.cwd or len(body.cwd) > 1024 or "\x00" in body.cwd):
        errors.add("cwd", "must be a path of 1 to 1024 characters inside the workspace")
    if body.stdin is not None and len(body.stdin.encode()) > s.task_stdin_max_bytes:
        errors.add("stdin", f"must be at most {s.task_stdin_max_bytes} bytes (UTF-8)")
    errors.raise_if_any()
    return TaskSpec(
        command=body.command, timeout_seconds=timeout, env=env, cwd=body.cwd, stdin=body.stdin
    )
