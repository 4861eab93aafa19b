"""The counters every gateway replica shares: a JetStream KV bucket updated by revision CAS.

A counter is the number of requests *leased* to replicas in one window of one bucket. A
replica reads it and writes `value + lease` only if nobody wrote since it read (the expected
revision): two replicas can never both take the same tokens, so the leases of a window add
up to at most its limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any, NamedTuple

from nats.aio.client import Client as NATS
from nats.js import api
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from skiff_kit.logging import get_logger
from skiff_messaging.connection import connect

_MAX_ATTEMPTS = 32
_log = get_logger("skiff.gateway.ratelimit")


class StoreUnavailable(Exception):
    """The shared counters cannot be reached right now."""


class Contended(Exception):
    """Other replicas kept writing the counter first; try again."""


class Counter(NamedTuple):
    """A counter as last read or written: its value and the stream revision of that value."""

    value: int
    revision: int | None


class Grant(NamedTuple):
    """The outcome of one lease: tokens granted and the counter after it."""

    granted: int
    counter: Counter


class SharedCounters:
    """Leases tokens from per-window counters in the `bucket` KV bucket (memory storage)."""

    def __init__(
        self, nats_url: str, *, bucket: str, ttl_seconds: float, timeout_seconds: float
    ) -> None:
        self.nats_url = nats_url
        self.bucket = bucket
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self.nats: NATS | None = None
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """True while the bucket can be used (connected, bucket opened)."""
        return self._kv is not None and self.nats is not None and self.nats.is_connected

    async def start(self, *, wait_seconds: float) -> None:
        """Connect in the background; wait up to `wait_seconds` for it (never fails)."""
        self._task = asyncio.create_task(self._open(), name="gateway-ratelimit-store")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), wait_seconds)
        if not self.ready:
            _log.warning("ratelimit_store_unavailable", nats_url=self.nats_url, fallback="local")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.nats is not None:
            with contextlib.suppress(Exception):
                await self.nats.close()
        self.nats, self._kv = None, None

    async def _open(self) -> None:
        """Connect (retrying for as long as it takes) and open or create the bucket."""
        self.nats = await connect(self.nats_url, name="gateway-ratelimit")
        js = self.nats.jetstream()
        while self._kv is None:
            try:
                self._kv = await self._bucket(js)
            except Exception as error:
                _log.warning("ratelimit_bucket_failed", error=str(error) or type(error).__name__)
                await asyncio.sleep(1.0)

    async def _bucket(self, js: Any) -> KeyValue:
        try:
            kv: KeyValue = await js.key_value(self.bucket)
        except BucketNotFoundError:
            config = api.KeyValueConfig(
                bucket=self.bucket,
                history=1,
                ttl=self.ttl_seconds,
                storage=api.StorageType.MEMORY,
                direct=True,
            )
            kv = await js.create_key_value(config)
        return kv

    async def lease(self, key: str, *, limit: int, want: int, last: Counter | None) -> Grant:
        """Take up to `want` tokens from counter `key` (never past `limit`).

        `last` is the counter as this replica last saw it: right, the lease costs one round
        trip; stale, the write is refused and the counter is read again.
        """
        kv = self._kv
        if kv is None or not self.ready:
            raise StoreUnavailable("NATS is not connected")
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._lease(kv, key, limit=limit, want=want, last=last)
        except (TimeoutError, ConnectionError, OSError) as error:
            raise StoreUnavailable(str(error) or type(error).__name__) from error
        except (StoreUnavailable, Contended):
            raise
        except Exception as error:  # nats-py raises its own errors for a lost connection
            raise StoreUnavailable(str(error) or type(error).__name__) from error

    async def _lease(
        self, kv: KeyValue, key: str, *, limit: int, want: int, last: Counter | None
    ) -> Grant:
        counter = last
        for attempt in range(_MAX_ATTEMPTS):
            if counter is None:
                counter = await self._read(kv, key)
            if counter.value >= limit:
                return Grant(0, counter)
            take = min(want, limit - counter.value)
            value = counter.value + take
            try:
                if counter.revision is None:
                    revision = await kv.create(key, b"%d" % value)
                else:
                    revision = await kv.update(key, b"%d" % value, last=counter.revision)
            except KeyWrongLastSequenceError:
                counter = None  # another replica wrote first: read again
                if attempt:
                    await asyncio.sleep(random.random() * 0.001 * attempt)
                continue
            return Grant(take, Counter(value, revision))
        raise Contended(f"counter {key} too contended")

    @staticmethod
    async def _read(kv: KeyValue, key: str) -> Counter:
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            return Counter(0, None)
        return Counter(int(entry.value or b"0"), entry.revision)
