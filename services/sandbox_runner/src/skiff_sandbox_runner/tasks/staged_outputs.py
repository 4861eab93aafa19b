"""Announce staged transcripts: Object Store first, then the excerpted event (tasks/outcome.py).

`announce` runs as soon as a large outcome is committed; `run` retries whatever is still
staged (NATS was away, or the runner died in between) every few seconds and on start.
Putting an object twice under one name is harmless, and the staged row is deleted in the
transaction that records the event, so each outcome is announced once.
"""

from __future__ import annotations

import asyncio

import msgspec
import structlog
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore
from skiff_contracts.events.sandbox import TaskCompleted
from skiff_contracts.task_output import (
    TASK_OUTPUT_BUCKET,
    TASK_OUTPUT_TTL_SECONDS,
    TaskOutput,
    encode_task_output,
)
from skiff_messaging.aio import raise_if_cancelled
from skiff_messaging.objects import open_object_store
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_sandbox_runner.models import StagedOutput
from skiff_sandbox_runner.outbox import OUTBOX

log = structlog.get_logger("skiff_sandbox_runner.tasks")

EXCERPT_BYTES = 4 * 1024
RETRY_SECONDS = 5.0


def excerpt(text: str, limit: int = EXCERPT_BYTES) -> str:
    """The first `limit` bytes of `text`, never cutting a character in two."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode(errors="ignore")


class StagedOutputs:
    """This runner's staged transcripts, and how they leave."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], js: JetStreamContext, runner_id: str
    ) -> None:
        self.sessions = sessions
        self.js = js
        self.runner_id = runner_id
        self._store: ObjectStore | None = None

    async def announce(self, task_id: str) -> bool:
        """Upload and announce one staged transcript; False (and logged) if that failed."""
        try:
            await self._announce(task_id)
        except Exception as exc:
            self._store = None  # opened (or created) afresh next time: NATS may have lost it
            log.warning("staged task output not announced yet", task_id=task_id, error=repr(exc))
            return False
        return True

    async def run(self) -> None:
        """Retry every staged transcript of this runner until cancelled."""
        while True:
            raise_if_cancelled()
            async with self.sessions() as session:
                staged = (
                    await session.scalars(
                        select(StagedOutput.task_id)
                        .where(StagedOutput.runner_id == self.runner_id)
                        .order_by(StagedOutput.staged_at)
                    )
                ).all()
            for task_id in staged:
                await self.announce(task_id)
            await asyncio.sleep(RETRY_SECONDS)

    async def _announce(self, task_id: str) -> None:
        async with self.sessions() as session:
            row = await session.get(StagedOutput, task_id)
        if row is None:
            return
        event = msgspec.msgpack.decode(row.completed, type=TaskCompleted)
        output = TaskOutput(stdout=event.stdout, stderr=event.stderr, truncated=event.truncated)
        store = self._store or await open_object_store(
            self.js, TASK_OUTPUT_BUCKET, ttl=TASK_OUTPUT_TTL_SECONDS
        )
        self._store = store
        await store.put(task_id, encode_task_output(output))
        announced = msgspec.structs.replace(
            event, stdout=excerpt(event.stdout), stderr=excerpt(event.stderr), output_object=task_id
        )
        async with self.sessions() as session, session.begin():
            locked = await session.get(StagedOutput, task_id, with_for_update={"skip_locked": True})
            if locked is None:
                return  # announced meanwhile by the other path
            await OUTBOX.record(
                session, announced, subject=task_id, organization_id=event.organization_id
            )
            await session.delete(locked)
