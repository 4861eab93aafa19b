"""Idempotency records in a NATS KV bucket that every gateway replica shares.

One record per (caller, key). A replica *claims* a key with an atomic `create` ("in
progress"), then either *finishes* it with the first answer or *releases* it (deletes it)
so the request can be retried. Every change after the claim is a compare-and-set on the
revision the replica holds: two replicas never both run a key's request, and a replica
never finishes or deletes a claim another one took over once the first was abandoned (a
replica that died mid-request would otherwise block its key until the record expired).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import NamedTuple, TypeVar

import msgspec
from nats.aio.client import Client as NATS
from nats.js import api
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from skiff_kit.errors import SkiffError
from skiff_kit.logging import get_logger

from skiff_gateway.idempotency.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IdempotencyUnavailable,
)
from skiff_gateway.kv_bucket import BackgroundBucket

_ATTEMPTS = 5
_ENVELOPE_ROOM = 4096  # what a KV message adds to its value (subject, headers)
_log = get_logger("skiff.gateway.idempotency")
T = TypeVar("T")


class Record(msgspec.Struct, frozen=True):
    """A key's request: its fingerprint, when the record was written (a claim: when it was
    claimed) and, once completed, its sealed answer (keys.py). A completed record without an
    answer is a key whose answer was too large to keep: used, but not replayed."""

    fingerprint: str
    written_at: float
    completed: bool = False
    answer: bytes | None = None


class Claim(NamedTuple):
    """This replica runs the key's request; `revision` is the record it wrote."""

    key: str
    revision: int
    fingerprint: str


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


class IdempotencyStore:
    """Claims, finishes and releases records in the `bucket` KV bucket (file storage)."""

    def __init__(
        self,
        nats_url: str,
        *,
        bucket: str,
        ttl_seconds: float,
        timeout_seconds: float,
        abandoned_after_seconds: float,
    ) -> None:
        self.nats_url = nats_url
        self.bucket = bucket
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self.abandoned_after_seconds = abandoned_after_seconds
        config = api.KeyValueConfig(
            bucket=bucket, history=1, ttl=ttl_seconds, storage=api.StorageType.FILE
        )
        self._bucket = BackgroundBucket(nats_url, client_name="gateway-idempotency", config=config)

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
            _log.warning("idempotency_store_unavailable", nats_url=self.nats_url)

    async def stop(self) -> None:
        await self._bucket.stop()

    async def claim(self, key: str, fingerprint: str) -> Claim | Record:
        """Claim `key` for a request, or the completed record to replay.

        Raises `IdempotencyKeyReused` (another request's key), `IdempotencyKeyInUse` (its
        request is still running) or `IdempotencyUnavailable`.
        """
        kv = self._usable()
        return await self._guarded(self._claim(kv, key, fingerprint))

    async def _claim(self, kv: KeyValue, key: str, fingerprint: str) -> Claim | Record:
        now = time.time()
        mine = _encode(Record(fingerprint=fingerprint, written_at=now))
        for _ in range(_ATTEMPTS):
            try:
                return Claim(key, await kv.create(key, mine), fingerprint)
            except KeyWrongLastSequenceError:
                pass  # the key has a record: read it
            try:
                entry = await kv.get(key)
            except KeyNotFoundError:
                continue  # released meanwhile: claim it again
            record = _decode(entry.value or b"")
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused
            if record.completed:
                return record
            if now - record.written_at < self.abandoned_after_seconds:
                raise IdempotencyKeyInUse
            try:  # abandoned: take it over, unless another replica just did
                revision = await kv.update(key, mine, last=entry.revision)
            except KeyWrongLastSequenceError:
                continue
            _log.warning("idempotency_claim_taken_over", claimed_at=record.written_at)
            return Claim(key, revision, fingerprint)
        raise IdempotencyKeyInUse

    async def finish(self, claim: Claim, answer: bytes | None) -> None:
        """Keep the first (sealed) answer; None, or one too large for a NATS message, marks
        the key used without one."""
        limit = self.nats.max_payload if self.nats is not None else 0
        if answer is not None and len(answer) + _ENVELOPE_ROOM > limit:
            answer = None
        value = _encode(Record(claim.fingerprint, time.time(), completed=True, answer=answer))
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self._usable().update(claim.key, value, last=claim.revision)
        except Exception as error:
            # The claim stays until it counts as abandoned; a retry meanwhile answers 409.
            _log.error("idempotency_finish_failed", error=_reason(error))

    async def release(self, claim: Claim) -> None:
        """Delete this replica's claim so the request can be tried again."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self._usable().delete(claim.key, last=claim.revision)
        except Exception as error:
            _log.error("idempotency_release_failed", error=_reason(error))

    def _usable(self) -> KeyValue:
        kv = self._kv
        if kv is None or not self.ready:
            raise IdempotencyUnavailable
        return kv

    async def _guarded(self, operation: Awaitable[T]) -> T:
        """`operation` within the store's timeout; a NATS failure is `IdempotencyUnavailable`."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await operation
        except SkiffError:
            raise
        except Exception as error:  # nats-py raises its own errors for a lost connection
            _log.warning("idempotency_store_failed", error=_reason(error))
            self._bucket.check_missing(error)
            raise IdempotencyUnavailable from error


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__
