"""Tasks: exec by request/reply, output on LIVE in order, outcomes on SANDBOX."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from runner_support import completed, events, exec_task, live, rpc, start
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import TaskStarted
from skiff_contracts.rpc.sandbox import (
    SESSION_NOT_FOUND,
    SESSION_NOT_RUNNING,
    TASK_NOT_FOUND,
    Done,
    ExecAccepted,
    ExecRequest,
    SessionRef,
    StdinRequest,
    TaskRef,
)
from skiff_messaging.errors import RemoteError
from skiff_testing.bus import eventually


async def test_output_flows_in_order_with_a_sequence_and_the_outcome_is_recorded(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    command = "for i in 1 2 3; do echo out$i; sleep 0.05; done; echo oops >&2; exit 3"
    task_id = await exec_task(nc, runner_id, session, command)

    outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.exit_code) == ("failed", 3)
    assert outcome.stdout == "out1\nout2\nout3\n"
    assert outcome.stderr == "oops\n"
    assert outcome.truncated is False
    [started] = [t for t in await events(js, TaskStarted, session.session_id)]
    assert started.task_id == task_id

    stream = await live(js, session.session_id, task_id)
    assert stream[0].kind == "status"
    assert stream[0].status == "running"
    assert (stream[-1].kind, stream[-1].status, stream[-1].exit_code) == ("status", "failed", 3)
    output = [event for event in stream if event.kind == "output"]
    assert [event.seq for event in output] == list(range(1, len(output) + 1))
    assert "".join(e.data or "" for e in output if e.stream == "stdout") == outcome.stdout
    assert "".join(e.data or "" for e in output if e.stream == "stderr") == "oops\n"


async def test_a_successful_task_with_env_cwd_and_stdin(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js, env={"FROM_SESSION": "s"})
    await completed(
        js, session.session_id, await exec_task(nc, runner_id, session, "mkdir -p sub/dir")
    )
    task_id = await exec_task(
        nc,
        runner_id,
        session,
        'echo "$FROM_SESSION $FROM_TASK $(pwd | sed s,.*/,,)"; cat',
        env={"FROM_TASK": "t"},
        cwd="sub/dir",
        stdin=b"line one\nline two\n",
    )
    outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.exit_code, outcome.error) == ("succeeded", 0, None)
    assert outcome.stdout == "s t dir\nline one\nline two\n"


async def test_stdin_by_request_then_eof(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    task_id = await exec_task(nc, runner_id, session, "cat; echo done")
    ref = StdinRequest(session_id=session.session_id, task_id=task_id, data=b"hello\n")
    assert (await rpc(nc, runner_id, "stdin", ref, Done)).status == "running"
    eof = StdinRequest(session_id=session.session_id, task_id=task_id, eof=True)
    await rpc(nc, runner_id, "stdin", eof, Done)
    outcome = await completed(js, session.session_id, task_id)
    assert outcome.stdout == "hello\ndone\n"


async def test_a_task_past_its_timeout_is_killed(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    task_id = await exec_task(
        nc, runner_id, session, "echo before; sleep 30; echo after", timeout_seconds=1
    )
    outcome = await completed(js, session.session_id, task_id)
    assert outcome.status == "timed_out"
    assert outcome.stdout == "before\n"
    assert (await live(js, session.session_id, task_id))[-1].status == "timed_out"


async def test_cancel_kills_the_task(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    task_id = await exec_task(nc, runner_id, session, "echo started; sleep 30")

    async def printed() -> bool:
        return any(e.kind == "output" for e in await live(js, session.session_id, task_id))

    await eventually(printed, what="the task's first output")
    ref = TaskRef(session_id=session.session_id, task_id=task_id)
    assert (await rpc(nc, runner_id, "cancel", ref, Done)).status == "cancelled"
    outcome = await completed(js, session.session_id, task_id)
    assert outcome.status == "cancelled"
    with pytest.raises(RemoteError) as error:
        await rpc(nc, runner_id, "cancel", ref, Done)
    assert error.value.code == TASK_NOT_FOUND


async def test_output_beyond_the_limit_is_cut_and_flagged(
    make_settings: Any, js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    from skiff_sandbox_runner.app import create

    async with AsyncTestClient(create(make_settings(task_output_limit_bytes=10))):
        session = await start(js)
        task_id = await exec_task(nc, runner_id, session, "printf 0123456789abcdef")
        outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.stdout, outcome.truncated) == ("succeeded", "0123456789", True)
    chunks = [e.data for e in await live(js, session.session_id, task_id) if e.kind == "output"]
    assert "".join(c or "" for c in chunks) == "0123456789abcdef"


async def test_exec_answers_why_it_cannot_run(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    unknown = ExecRequest(
        task_id=new_id("tsk"),
        session_id=new_id("ses"),
        organization_id=session.organization_id,
        command="true",
        timeout_seconds=5,
    )
    with pytest.raises(RemoteError) as error:
        await rpc(nc, runner_id, "exec", unknown, ExecAccepted)
    assert error.value.code == SESSION_NOT_FOUND

    foreign = ExecRequest(
        task_id=new_id("tsk"),
        session_id=session.session_id,
        organization_id=new_id("org"),
        command="true",
        timeout_seconds=5,
    )
    with pytest.raises(RemoteError) as error:
        await rpc(nc, runner_id, "exec", foreign, ExecAccepted)
    assert error.value.code == SESSION_NOT_FOUND

    await rpc(nc, runner_id, "pause", SessionRef(session_id=session.session_id), Done)
    with pytest.raises(RemoteError) as error:
        await exec_task(nc, runner_id, session, "true")
    assert error.value.code == SESSION_NOT_RUNNING


async def test_the_same_exec_twice_runs_the_command_once(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    body = ExecRequest(
        task_id=new_id("tsk"),
        session_id=session.session_id,
        organization_id=session.organization_id,
        command="echo x >> count; cat count",
        timeout_seconds=5,
    )
    first = await rpc(nc, runner_id, "exec", body, ExecAccepted)
    await completed(js, session.session_id, body.task_id)
    again = await rpc(nc, runner_id, "exec", body, ExecAccepted)
    assert again.started_at == first.started_at
    other = await exec_task(nc, runner_id, session, "cat count")
    assert (await completed(js, session.session_id, other)).stdout == "x\n"


async def test_a_command_that_cannot_start_ends_failed_with_the_reason(
    runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    task_id = await exec_task(nc, runner_id, session, "true", cwd="no/such/dir")
    outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.exit_code) == ("failed", None)
    assert "working directory" in (outcome.error or "")
    assert (await live(js, session.session_id, task_id))[-1].status == "failed"
