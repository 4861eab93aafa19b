"""Inputs that reach the bus are limited so that a valid request always fits in one message."""

from __future__ import annotations

from typing import Any

from orchestrator_support import SESSIONS, Caller, assert_error
from sandbox_fakes import FakeRunner

KIB = 1024


def _tasks_of(session: dict[str, Any]) -> str:
    return f"{SESSIONS}/{session['id']}/tasks"


def _fields(response: Any) -> dict[str, str]:
    return {f["field"]: f["message"] for f in response.json()["details"]["fields"]}


async def test_every_input_at_its_limit_and_escape_heavy_still_reaches_the_runner(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    # Each at (or just under) its limit, in the characters that cost the most on the bus.
    command = "echo " + "\x01" * ((64 * KIB - 7) // 6 - 5)
    env = {f"K{i}": "\x02" * 80 for i in range(60)}
    body = {"command": command, "env": env, "stdin": "\x03" * (512 * KIB)}

    response = await alice.post(_tasks_of(session), json=body)

    assert response.status_code == 202, response.text[:300]
    [sent] = runner.execs
    assert sent.stdin == b"\x03" * (512 * KIB)
    assert sent.command == command


async def test_over_the_limits_each_field_is_named_with_its_limit(
    alice: Caller, runner: FakeRunner
) -> None:
    session = await alice.running_session()
    body = {
        "command": "\x01" * (11 * KIB),  # 66 KiB as JSON
        "env": {"BIG": '"' * (17 * KIB)},  # 34 KiB as JSON
        "stdin": "x" * (512 * KIB + 1),
    }

    response = await alice.post(_tasks_of(session), json=body)

    assert_error(response, 400, "validation_error")
    fields = _fields(response)
    assert "at most 65536 bytes" in fields["command"]
    assert "at most 32768 bytes" in fields["env"]
    assert "at most 524288 bytes" in fields["stdin"]
    assert runner.execs == []


async def test_session_env_and_metadata_are_measured_as_they_travel(
    alice: Caller, runner: FakeRunner
) -> None:
    response = await alice.post(SESSIONS, json={"metadata": {"note": "\x01" * 700}})

    assert_error(response, 400, "validation_error")
    assert "at most 4096 bytes" in _fields(response)["metadata"]
