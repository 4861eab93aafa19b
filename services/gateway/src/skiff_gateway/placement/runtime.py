"""Placements in a replica: follow the bucket, look a miss up directly, one pool per runner.

Runners write `sandbox-placement[session_id]` when a session starts (or is adopted) and
delete it when it stops; the gateway only reads. The bucket is not created here: its
configuration is the runners' (until one runner has started, no session has a placement).
A miss in the view is looked up in the bucket itself, since a placement written a moment
ago may not have come through the watch yet; that answer serves this request only, so a
delete that the watch applied meanwhile is never undone by it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from nats.aio.client import Client as NATS
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue
from skiff_contracts.live import PLACEMENT_BUCKET
from skiff_kit.errors import NotFound, ServiceUnavailable
from skiff_messaging.aio import backoff_delay, raise_if_cancelled
from skiff_messaging.connection import connect, drain_then_close, on_reconnect

from skiff_gateway.placement.view import Placed, PlacementView, placed_of
from skiff_gateway.upstream import Upstream, UpstreamPool

log = structlog.get_logger("skiff_gateway.placement")

_DELETED = ("DEL", "PURGE")


class SessionNotRunning(NotFound):
    """No runner holds this session (for the caller's organization)."""

    code = "session_not_found"
    default_message = "This session does not exist or is not running."


class Placements:
    """Runs while the gateway does; `route` says where a session's file request goes."""

    def __init__(
        self,
        *,
        nats_url: str,
        bucket: str = PLACEMENT_BUCKET,
        connect_timeout: float = 2.0,
        lookup_timeout: float = 2.0,
    ) -> None:
        self.nats_url = nats_url
        self.bucket = bucket
        self.connect_timeout = connect_timeout
        self.lookup_timeout = lookup_timeout
        self.view = PlacementView()
        self.nats: NATS | None = None
        self._kv: KeyValue | None = None
        self._watching: KeyValue.KeyWatcher | None = None
        self._pools: dict[str, UpstreamPool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """Follow the bucket in the background (requests never wait for it: misses look up)."""
        task = asyncio.create_task(self._run(), name="gateway-placement")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()

    async def route(self, session_id: str, organization_id: str) -> tuple[UpstreamPool, Upstream]:
        """The pool and address of the runner holding the caller's session, else 404."""
        placed = self.view.get(session_id) if session_id else None
        if placed is None and session_id:
            placed = await self._lookup(session_id)
        if placed is None or placed.organization_id != organization_id:
            raise SessionNotRunning(details={"session_id": session_id})
        upstream = placed.upstream
        pool = self._pools.get(upstream.base_url)
        if pool is None:
            pool = self._pools[upstream.base_url] = UpstreamPool(
                connect_timeout=self.connect_timeout
            )
        return pool, upstream

    async def _lookup(self, session_id: str) -> Placed | None:
        kv = await self._bucket()
        if kv is None:
            return None
        try:
            entry = await asyncio.wait_for(kv.get(session_id), self.lookup_timeout)
        except KeyNotFoundError:  # never placed, or deleted (KeyDeletedError)
            return None
        except Exception as exc:
            log.warning("placement lookup failed", error=repr(exc))
            raise ServiceUnavailable("Where this session runs cannot be looked up now.") from exc
        return placed_of(entry.value) if entry.value else None

    async def _bucket(self) -> KeyValue | None:
        """The bucket; None while no runner has created it."""
        if self._kv is not None:
            return self._kv
        if self.nats is None or not self.nats.is_connected:
            raise ServiceUnavailable("Where this session runs cannot be looked up now.")
        try:
            self._kv = await asyncio.wait_for(
                self.nats.jetstream().key_value(self.bucket), self.lookup_timeout
            )
        except BucketNotFoundError:
            return None
        except Exception as exc:
            raise ServiceUnavailable("Where this session runs cannot be looked up now.") from exc
        return self._kv

    async def _run(self) -> None:
        self.nats = await connect(self.nats_url, name="gateway-placement")
        on_reconnect(self.nats, self._rewatch)
        attempt = 0
        try:
            while True:
                raise_if_cancelled()
                try:
                    kv = self._kv or await self.nats.jetstream().key_value(self.bucket)
                    self._kv = kv
                    await self._follow(kv)
                except asyncio.CancelledError:
                    raise
                except BucketNotFoundError:
                    attempt += 1  # no runner yet: look again later
                except Exception as exc:
                    attempt += 1
                    log.warning("placement watch failed; restarting", error=repr(exc))
                await asyncio.sleep(backoff_delay(attempt))
        finally:
            with contextlib.suppress(Exception):
                await drain_then_close(self.nats)
            self.nats = None

    async def _follow(self, kv: KeyValue) -> None:
        """Load the bucket, then apply every change (a restart re-reads it all)."""
        watcher = self._watching = await kv.watchall()
        fresh: set[str] = set()
        try:
            async for entry in watcher:
                if entry is None:  # the end of what the bucket held: forget what it no longer has
                    for gone in set(self.view.sessions) - fresh:
                        self._apply(gone, None)
                    self.view.loaded = True
                    continue
                deleted = entry.operation in _DELETED
                if not self.view.loaded:
                    fresh.add(entry.key)
                self._apply(entry.key, None if deleted else entry.value)
        finally:
            self.view.loaded = False
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    async def _rewatch(self) -> None:
        """After a reconnection: re-read the bucket and follow it afresh."""
        if self._watching is not None:
            with contextlib.suppress(Exception):
                await self._watching.stop()  # type: ignore[no-untyped-call]

    def _apply(self, session_id: str, value: bytes | None) -> None:
        before = self.view.get(session_id)
        self.view.apply(session_id, value)
        if before is None or self.view.serves(before.upstream.base_url):
            return
        pool = self._pools.pop(before.upstream.base_url, None)  # that runner holds nothing now
        if pool is not None:
            pool.close()
