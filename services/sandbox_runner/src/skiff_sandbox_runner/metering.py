"""Running time and started minutes: what `sandbox.session.usage` reports.

A session is billed per started minute of running time; paused time never counts. The
per-minute event for minute N (1, 2, ...) goes out when running time reaches (N - 1) * 60 s,
and the final one carries the exact seconds with `minutes_started = max(1, ceil(s / 60))`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware (every stored time is UTC)."""
    return datetime.now(UTC)


def active_seconds(before: float, running_since: datetime | None, now: datetime) -> float:
    """Running time: what was accumulated plus the current run segment, if running."""
    if running_since is None:
        return before
    return before + max(0.0, (now - running_since).total_seconds())


def minutes_started(seconds: float) -> int:
    """Minutes begun after `seconds` of running time: 1 at 0 s, 2 at 60 s, ..."""
    return int(seconds // 60) + 1


def final_minutes(seconds: float) -> int:
    """Minutes billed for a session that ran exactly `seconds`: at least one."""
    return max(1, math.ceil(seconds / 60))
