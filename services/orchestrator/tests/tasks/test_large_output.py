"""A large transcript arrives by the Object Store; what PostgreSQL cannot store is replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client as NATS
from orchestrator_support import SESSIONS, Caller
from sandbox_fakes import FakeRunner, publish_event
from skiff_contracts.events.sandbox import TaskCompleted
from skiff_contracts.task_output import TASK_OUTPUT_BUCKET, TaskOutput, encode_task_output
from skiff_messaging.objects import open_object_store


async def _sleeping_task(alice: Caller) -> tuple[dict[str, Any], str]:
    session = await alice.running_session()
    response = await alice.post(f"{SESSIONS}/{session['id']}/tasks", json={"command": "sleep"})
    assert response.status_code == 202, response.text
    return session, response.json()["id"]


def _completed(session: dict[str, Any], task_id: str, **fields: Any) -> TaskCompleted:
    values: dict[str, Any] = {
        "task_id": task_id,
        "session_id": session["id"],
        "organization_id": session.get("organization_id", ""),
        "status": "succeeded",
        "exit_code": 0,
        "stdout": "",
        "stderr": "",
        "truncated": False,
        "duration_ms": 5,
        "finished_at": datetime.now(UTC),
        **fields,
    }
    return TaskCompleted(**values)


async def test_the_full_transcript_is_read_from_the_object_store(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session, task_id = await _sleeping_task(alice)
    full = TaskOutput(stdout="\x01" * 5000 + "\x00end", stderr='"\\é' * 2000, truncated=False)
    store = await open_object_store(nc.jetstream(), TASK_OUTPUT_BUCKET)
    await store.put(task_id, encode_task_output(full))
    event = _completed(
        session,
        task_id,
        organization_id=alice.org,
        stdout="\x01" * 100,
        stderr='"\\é',
        output_object=task_id,
    )

    await publish_event(nc, event, source="skiff/sandbox-runner", org=alice.org)
    done = await alice.task_in(task_id, "succeeded")

    assert done["stdout"] == "\x01" * 5000 + "\ufffdend"  # NUL cannot live in a text column
    assert done["stderr"] == '"\\é' * 2000
    assert done["truncated"] is False


async def test_a_missing_object_leaves_the_excerpt_marked_truncated(
    alice: Caller, runner: FakeRunner, nc: NATS
) -> None:
    session, task_id = await _sleeping_task(alice)
    event = _completed(
        session, task_id, organization_id=alice.org, stdout="head", output_object="tsk_gone"
    )

    await publish_event(nc, event, source="skiff/sandbox-runner", org=alice.org)
    done = await alice.task_in(task_id, "succeeded")

    assert (done["stdout"], done["truncated"]) == ("head", True)
