"""The counters every gateway replica shares: a JetStream KV bucket updated by revision CAS.

A counter is the number of requests *leased* to replicas in one window of one bucket. A
replica reads it and writes `value + lease` only if nobody wrote since it read (the expected
revision): two replicas can never both take the same tokens, so the leases of a window add
up to at most its limit.
"""

from __future__ import annotations

import asyncio
import random
from typing import NamedTuple

from nats.aio.client import Client as NATS
from nats.js import api
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from skiff_kit.logging import get_logger

from skiff_gateway.kv_bucket import BackgroundBucket

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
        config = api.KeyValueConfig(
            bucket=bucket,
            history=1,
            ttl=ttl_seconds,
            storage=api.StorageType.MEMORY,
            direct=True,
        )
        self._bucket = BackgroundBucket(nats_url, client_name="gateway-ratelimit", config=config)

    @property
    def nats(self) -> NATS | None:
        return self._bucket.nats

    @property
    def _kv(self) -> KeyValue | None:
        return self._bucket.kv

    @property
    def ready(self) -> bool:
        """True while the bucket can be used (connected, bucket opened)."""
        return self._bucket.ready

    async def start(self, *, wait_seconds: float) -> None:
        """Connect in the background; wait up to `wait_seconds` for it (never fails)."""
        if not await self._bucket.start(wait_seconds=wait_seconds):
            _log.warning("ratelimit_store_unavailable", nats_url=self.nats_url, fallback="local")

    async def stop(self) -> None:
        await self._bucket.stop()

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
            self._bucket.check_missing(error)  # a NATS restart lost the (memory) bucket
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
