"""Small asyncio helpers the long-running loops share: back-off, cancellation, waiting."""

from __future__ import annotations

import asyncio
import random

_FIRST_DELAY = 0.25
_MAX_DELAY = 10.0


def backoff_delay(attempt: int, *, first: float = _FIRST_DELAY, cap: float = _MAX_DELAY) -> float:
    """Exponential back-off, jittered in its upper half: attempt 0 waits ~`first` seconds."""
    ceiling = min(cap, first * 2.0 ** min(attempt, 16))
    return ceiling / 2 + random.random() * ceiling / 2


def raise_if_cancelled() -> None:
    """Re-raise a cancellation of the current task that something swallowed.

    On Python 3.11 `asyncio.wait_for` (used inside nats-py) returns normally when it is
    cancelled just as its inner future completes; the task stays marked as cancelling, so a
    loop that checks here at each turn still stops.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def first_of(*events: asyncio.Event, within: float) -> None:
    """Wait until one of the events is set, or `within` seconds pass (never swallows a cancel)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
