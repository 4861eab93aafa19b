"""When to try a failed message again: the retry schedule, jitter, 429s and Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
# A receiver that is overloaded (429) or too slow (timeout) gets at least this long.
BACK_OFF_FLOOR = timedelta(seconds=60)
# Retry-After is honoured up to the longest step of the schedule.
RETRY_AFTER_CAP = RETRY_DELAYS[-1]


def next_delay(
    attempts: int,
    *,
    status_code: int | None = None,
    timed_out: bool = False,
    retry_after: timedelta | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> timedelta | None:
    """How long after failed attempt number `attempts` (1-based) to try again; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts - 1] * uniform(1 - JITTER, 1 + JITTER)
    if status_code == 429 or timed_out:
        delay = max(delay, BACK_OFF_FLOOR)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment - now, timedelta(0))
