"""Where this runner announces itself (`sandbox-runners`) and its sessions (`sandbox-placement`).

The orchestrator's reaper reads the registry: a runner missing from it for a while has lost
its sessions. The gateway reads placements to forward a session's file routes to the HTTP
address of the one process that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue
from skiff_contracts.live import PLACEMENT_BUCKET, RUNNERS_BUCKET, Placement, RunnerInfo
from skiff_messaging.aio import raise_if_cancelled

from skiff_sandbox_runner.metering import utcnow

log = structlog.get_logger("skiff_sandbox_runner.registry")


async def open_bucket(js: JetStreamContext, name: str, *, ttl: float | None = None) -> KeyValue:
    """The bucket `name`, created on first use (whoever comes first creates it)."""
    for _ in range(3):
        try:
            return await js.key_value(name)
        except BucketNotFoundError:
            config = KeyValueConfig(bucket=name, history=1, ttl=ttl, storage=StorageType.FILE)
            try:
                return await js.create_key_value(config)
            except BadRequestError:
                continue  # created concurrently by someone else: open theirs
    return await js.key_value(name)


class Registry:
    """This runner's entries in the two buckets."""

    def __init__(
        self, js: JetStreamContext, *, runner_id: str, url: str, backend: str, ttl: float
    ) -> None:
        self.js = js
        self.runner_id = runner_id
        self.url = url
        self.backend = backend
        self.ttl = ttl
        self._runners: KeyValue | None = None
        self._placement: KeyValue | None = None

    async def open(self) -> None:
        self._runners = await open_bucket(self.js, RUNNERS_BUCKET, ttl=self.ttl)
        self._placement = await open_bucket(self.js, PLACEMENT_BUCKET)

    async def announce(self) -> None:
        """Put (refresh) this runner's `RunnerInfo`."""
        assert self._runners is not None
        info = RunnerInfo(
            runner_id=self.runner_id, url=self.url, backend=self.backend, heartbeat_at=utcnow()
        )
        await self._runners.put(self.runner_id, msgspec.json.encode(info))

    async def heartbeat(self, interval: float) -> None:
        """Refresh the announcement every `interval` seconds until cancelled."""
        while True:
            raise_if_cancelled()  # a cancel swallowed inside nats-py must still stop the loop
            try:
                await self.announce()
            except Exception as exc:
                log.warning("runner heartbeat failed", error=repr(exc))
            await asyncio.sleep(interval)

    async def place(self, session_id: str, organization_id: str) -> None:
        """Point `session_id` at this process."""
        assert self._placement is not None
        placement = Placement(
            session_id=session_id,
            organization_id=organization_id,
            runner_id=self.runner_id,
            url=self.url,
        )
        await self._placement.put(session_id, msgspec.json.encode(placement))

    async def unplace(self, session_id: str) -> None:
        """Forget where `session_id` was (it stopped)."""
        assert self._placement is not None
        with contextlib.suppress(KeyNotFoundError):
            await self._placement.delete(session_id)
