"""The dispatcher's idea of now, injectable so tests walk the retry schedule without sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

from skiff_messaging.aio import first_of


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, seconds: float, wake: asyncio.Event) -> None:
        """Return after `seconds` of this clock, or as soon as `wake` is set."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, seconds: float, wake: asyncio.Event) -> None:
        await first_of(wake, within=max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told (`advance`), waking whoever waits on it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._moved.set()

    async def wait(self, seconds: float, wake: asyncio.Event) -> None:
        # Real time still passes for work in flight: look again now and then.
        self._moved.clear()
        await first_of(wake, self._moved, within=min(max(0.0, seconds), 0.5))
