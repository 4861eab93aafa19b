"""The directory's life in a replica: NATS, the bucket, the projector, the watcher, usage."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue
from skiff_messaging.aio import backoff_delay, raise_if_cancelled
from skiff_messaging.connection import connect, drain_then_close, on_reconnect
from skiff_messaging.streams import ensure_streams

from skiff_gateway.directory.projector import Projector
from skiff_gateway.directory.usage import UsageCounter
from skiff_gateway.directory.view import DirectoryView
from skiff_gateway.directory.watcher import Watcher

log = structlog.get_logger("skiff_gateway.directory")


async def open_bucket(js: JetStreamContext, name: str) -> KeyValue:
    """The directory bucket, created on first use (file storage, latest value per key only)."""
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        config = KeyValueConfig(bucket=name, history=1, storage=StorageType.FILE)
        return await js.create_key_value(config)


class Directory:
    """Runs while the gateway does; `view` is what authentication reads."""

    def __init__(
        self,
        *,
        nats_url: str,
        bucket: str,
        replica: str | None = None,
        usage_report_seconds: float = 5.0,
        start_timeout_seconds: float = 10.0,
    ) -> None:
        self.nats_url = nats_url
        self.bucket = bucket
        self.view = DirectoryView()
        self.usage = UsageCounter(replica or f"gw-{secrets.token_hex(4)}")
        self.usage_report_seconds = usage_report_seconds
        self.start_timeout_seconds = start_timeout_seconds
        self.nats: NATS | None = None
        self._watcher: Watcher | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """Start everything in the background; serve once the bucket is loaded (or the wait ends).

        Until the view is loaded, API keys answer 503 (access tokens work regardless).
        """
        ready = asyncio.Event()
        main = asyncio.create_task(self._run(ready), name="gateway-directory")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), self.start_timeout_seconds)
        if not self.view.loaded:
            log.warning("directory not loaded yet; API keys answer 503 until it is")
        try:
            yield
        finally:
            main.cancel()
            await asyncio.gather(main, return_exceptions=True)

    async def _run(self, ready: asyncio.Event) -> None:
        """Connect and run the three loops; start over (with back-off) if setting up fails."""
        self.nats = await connect(self.nats_url, name="gateway")
        on_reconnect(self.nats, self._rewatch)
        attempt = 0
        try:
            while True:
                raise_if_cancelled()
                try:
                    await self._serve(self.nats.jetstream(), ready)
                except Exception as exc:
                    attempt += 1
                    log.warning("directory cannot start; retrying", error=repr(exc))
                    await asyncio.sleep(backoff_delay(attempt))
        finally:
            with contextlib.suppress(Exception):
                await drain_then_close(self.nats)
            self.nats = None

    async def _serve(self, js: JetStreamContext, ready: asyncio.Event) -> None:
        await ensure_streams(js, ["IDENTITY", "GATEWAY"])
        kv = await open_bucket(js, self.bucket)
        watcher = self._watcher = Watcher(kv, self.view)
        tasks = [
            asyncio.create_task(watcher.run(), name="directory-watcher"),
            asyncio.create_task(Projector(js, kv).run(), name="directory-projector"),
            asyncio.create_task(self.usage.run(js, self.usage_report_seconds), name="usage"),
        ]
        try:
            await watcher.ready.wait()
            ready.set()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:  # the counts of the last few seconds, before the connection closes
                await asyncio.wait_for(self.usage.report(js), 2.0)
            except Exception as exc:
                log.warning("last usage report lost", error=repr(exc))

    async def _rewatch(self) -> None:
        """After a reconnection: re-read the bucket, so a revocation made while NATS was away
        (or while the watch's consumer was being re-made) applies at once."""
        if self._watcher is not None:
            await self._watcher.restart()

    async def check_ready(self) -> None:
        """Readiness: NATS connected and the view loaded."""
        if self.nats is None or not self.nats.is_connected:
            raise ConnectionError("NATS is not connected")
        if not self.view.loaded:
            raise ConnectionError("the API key directory is not loaded yet")
