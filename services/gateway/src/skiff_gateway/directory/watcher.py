"""Each replica loads the whole bucket at start, then follows every change into its view."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.js.kv import KeyValue
from skiff_messaging.aio import backoff_delay, raise_if_cancelled

from skiff_gateway.directory.view import DirectoryView

log = structlog.get_logger("skiff_gateway.directory.watcher")

_DELETED = ("DEL", "PURGE")


class Watcher:
    """Feeds a `DirectoryView` from the bucket; `ready` is set once the initial load is done."""

    def __init__(self, kv: KeyValue, view: DirectoryView) -> None:
        self.kv = kv
        self.view = view
        self.ready = asyncio.Event()
        self._current: KeyValue.KeyWatcher | None = None

    async def restart(self) -> None:
        """Read the whole bucket again and follow it afresh (after NATS came back: the watch's
        consumer lived in the server's memory, and changes made meanwhile must be seen)."""
        current = self._current
        if current is not None:
            with contextlib.suppress(Exception):
                await current.stop()  # type: ignore[no-untyped-call]

    async def run(self) -> None:
        """Watch until cancelled; after a failure the watch restarts and re-reads the bucket."""
        attempt = 0
        while True:
            raise_if_cancelled()
            try:
                watcher = self._current = await self.kv.watchall()
                try:
                    async for entry in watcher:
                        if entry is None:  # the end of what the bucket held at start
                            self.view.loaded = True
                            self.ready.set()
                            attempt = 0
                            continue
                        deleted = entry.operation in _DELETED
                        self.view.apply(entry.key, None if deleted else entry.value)
                finally:
                    with contextlib.suppress(Exception):
                        await watcher.stop()  # type: ignore[no-untyped-call]
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                log.warning("directory watch failed; restarting", error=repr(exc))
            await asyncio.sleep(backoff_delay(attempt))
