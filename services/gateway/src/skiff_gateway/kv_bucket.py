"""A NATS KV bucket the gateway opens in the background: created if missing, waited for briefly.

The rate-limit counters and the idempotency records each keep one. Start never fails: until
NATS answers, `ready` is False and the owner decides what that means (local limits, 503).
A bucket that NATS lost (memory storage does not survive a NATS restart) is made again after
each reconnection, and as soon as an operation reports it missing (`check_missing`).
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.client import Client as NATS
from nats.js import api
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue
from skiff_kit.logging import get_logger
from skiff_messaging.connection import connect, on_reconnect
from skiff_messaging.provision import is_missing_stream

_log = get_logger("skiff.gateway.kv_bucket")
_RETRY_SECONDS = 1.0


class BackgroundBucket:
    """Connects as `client_name` and opens (or creates) the bucket `config` describes."""

    def __init__(self, nats_url: str, *, client_name: str, config: api.KeyValueConfig) -> None:
        self.nats_url = nats_url
        self.client_name = client_name
        self.config = config
        self.nats: NATS | None = None
        self.kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None
        self._reopening: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """True while the bucket can be used (connected, bucket opened)."""
        return self.kv is not None and self.nats is not None and self.nats.is_connected

    async def start(self, *, wait_seconds: float) -> bool:
        """Connect in the background; wait up to `wait_seconds` for it. Whether it is ready."""
        self._task = asyncio.create_task(self._open(), name=f"{self.client_name}-bucket")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), wait_seconds)
        return self.ready

    def check_missing(self, error: BaseException) -> None:
        """If `error` says the bucket is gone, make it again in the background (once at a time)."""
        if not is_missing_stream(error) or self.nats is None:
            return
        if self._reopening is None or self._reopening.done():
            _log.warning("kv_bucket_missing", bucket=self.config.bucket)
            self._reopening = asyncio.create_task(self._reopen(), name=f"{self.client_name}-reopen")

    async def stop(self) -> None:
        for task in (self._task, self._reopening):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.nats is not None:
            with contextlib.suppress(Exception):
                await self.nats.close()
        self.nats, self.kv = None, None

    async def _open(self) -> None:
        """Connect (retrying for as long as it takes) and open or create the bucket."""
        self.nats = await connect(self.nats_url, name=self.client_name)
        on_reconnect(self.nats, self._reopen)
        while self.kv is None:
            try:
                await self._reopen()
            except Exception as error:
                _log.warning(
                    "kv_bucket_failed",
                    bucket=self.config.bucket,
                    error=str(error) or type(error).__name__,
                )
                await asyncio.sleep(_RETRY_SECONDS)

    async def _reopen(self) -> None:
        """Open the bucket, creating it if NATS does not have it (any more)."""
        assert self.nats is not None
        js = self.nats.jetstream()
        try:
            self.kv = await js.key_value(self.config.bucket)
        except BucketNotFoundError:
            self.kv = await js.create_key_value(self.config)
