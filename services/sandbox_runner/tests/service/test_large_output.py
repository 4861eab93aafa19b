"""Poison output: whatever a task prints, its outcome is announced and the next one too."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from runner_support import completed, exec_task, live, start
from skiff_contracts.task_output import TASK_OUTPUT_BUCKET, decode_task_output
from skiff_sandbox_runner.models import StagedOutput
from skiff_sandbox_runner.tasks.staged_outputs import EXCERPT_BYTES
from skiff_testing.bus import eventually
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

KIB = 1024
# 256 KiB of each byte on both streams: within the runner's transcript limit, and six times
# that once JSON escapes the control bytes (three times NATS's default max_payload).
POISONS = {
    "control bytes": "tr '\\0' '\\1'",
    "quotes": "tr '\\0' '\"'",
    "backslashes": "tr '\\0' '\\\\\\\\'",
    "NUL": "cat",
    "multi-byte": "sed 's/\\x00/é/g'",
}


@pytest.mark.parametrize("kind", sorted(POISONS))
async def test_an_output_that_escapes_to_megabytes_is_announced_with_an_excerpt(
    kind: str, runner: AsyncTestClient[Any], js: JetStreamContext, nc: NATS, runner_id: str
) -> None:
    session = await start(js)
    make = POISONS[kind]
    command = f"head -c {256 * KIB} /dev/zero | {make}; head -c {256 * KIB} /dev/zero | {make} >&2"

    task_id = await exec_task(nc, runner_id, session, command)
    outcome = await completed(js, session.session_id, task_id)

    assert (outcome.status, outcome.exit_code) == ("succeeded", 0)
    assert outcome.output_object == task_id
    assert len(outcome.stdout.encode()) <= EXCERPT_BYTES
    assert len(outcome.stderr.encode()) <= EXCERPT_BYTES
    store = await js.object_store(TASK_OUTPUT_BUCKET)
    full = decode_task_output((await store.get(task_id)).data or b"")
    assert len(full.stdout.encode()) == 256 * KIB  # the runner's limit, exactly reached
    assert full.stderr[:100] == full.stdout[:100]
    assert full.stdout.startswith(outcome.stdout)
    for event in await live(js, session.session_id, task_id):
        assert len(msgspec.json.encode(event)) < 128 * KIB

    # The bus is not blocked: the next task of another session is announced as usual.
    other = await start(js)
    after = await exec_task(nc, runner_id, other, "echo fine")
    assert (await completed(js, other.session_id, after)).stdout == "fine\n"


async def test_a_transcript_staged_while_nats_refused_it_is_announced_later(
    runner: AsyncTestClient[Any],
    js: JetStreamContext,
    nc: NATS,
    runner_id: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    session = await start(js)
    # The bucket's stream, without the bucket's subjects: opening it works, storing fails.
    blocker = f"OBJ_{TASK_OUTPUT_BUCKET}"
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(blocker)
    await js.add_stream(name=blocker, subjects=["blocked.task-output"])
    try:
        task_id = await exec_task(
            nc, runner_id, session, f"head -c {128 * KIB} /dev/zero | tr '\\0' '\\1'"
        )
        await _staged(sessions, task_id)
    finally:
        await js.delete_stream(blocker)

    outcome = await completed(js, session.session_id, task_id)
    assert outcome.output_object == task_id


async def _staged(sessions: async_sessionmaker[AsyncSession], task_id: str) -> None:
    async def present() -> bool:
        async with sessions() as session:
            return await session.get(StagedOutput, task_id) is not None

    await eventually(present, within=15, what="the transcript staged")
