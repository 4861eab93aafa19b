"""Full transcripts a runner left in the Object Store, for tasks whose output was large."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from nats.aio.client import Client as NATS
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import ObjectStore
from skiff_contracts.task_output import (
    TASK_OUTPUT_BUCKET,
    TASK_OUTPUT_TTL_SECONDS,
    TaskOutput,
    decode_task_output,
)
from skiff_messaging.objects import open_object_store

log = structlog.get_logger("skiff_orchestrator.tasks")

FETCH_SECONDS = 5.0
ATTEMPTS = 2
# Deleted once the row has surely committed it; the bucket's TTL removes what this misses.
FORGET_AFTER_SECONDS = 60.0


class TaskOutputs:
    """Reads (and later deletes) transcripts by object name."""

    def __init__(self, nats: Callable[[], NATS | None]) -> None:
        self._nats = nats
        self._later: set[asyncio.Task[None]] = set()

    async def fetch(self, name: str) -> TaskOutput | None:
        """The transcript, or None when it is gone or NATS did not give it (logged)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with asyncio.timeout(FETCH_SECONDS):
                    store = await self._store()
                    result = await store.get(name)
                return decode_task_output(result.data or b"")
            except ObjectNotFoundError:
                log.error("task output object is missing; keeping the excerpt", object=name)
                return None
            except Exception as exc:
                log.warning(
                    "task output not fetched", object=name, attempt=attempt, error=repr(exc)
                )
        log.error("task output unavailable; keeping the excerpt", object=name)
        return None

    def forget_later(self, name: str) -> None:
        """Delete the object a while after its transcript was stored in the task's row."""
        task = asyncio.create_task(self._forget(name), name=f"forget-{name}")
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _forget(self, name: str) -> None:
        await asyncio.sleep(FORGET_AFTER_SECONDS)
        try:
            await (await self._store()).delete(name)
        except Exception as exc:  # the TTL removes it anyway
            log.info("task output object not deleted", object=name, error=repr(exc))

    async def _store(self) -> ObjectStore:
        nats = self._nats()
        if nats is None:
            raise ConnectionError("NATS is not connected")
        return await open_object_store(
            nats.jetstream(), TASK_OUTPUT_BUCKET, ttl=TASK_OUTPUT_TTL_SECONDS
        )
