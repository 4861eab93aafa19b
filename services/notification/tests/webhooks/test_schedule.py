"""The retry schedule: its steps with ±20 % jitter, the 60 s floor, Retry-After within bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from skiff_notification.webhooks.schedule import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    next_delay,
    parse_retry_after,
)


def test_the_schedule_is_the_contracts() -> None:
    minutes = [d.total_seconds() / 60 for d in RETRY_DELAYS]
    assert minutes == [5 / 60, 5, 30, 120, 300, 600, 840, 1200, 1440]
    assert MAX_ATTEMPTS == 10


@pytest.mark.parametrize("attempt", range(1, MAX_ATTEMPTS))
def test_each_step_is_jittered_within_20_percent(attempt: int) -> None:
    base = RETRY_DELAYS[attempt - 1]
    assert next_delay(attempt, uniform=lambda low, high: low) == base * 0.8
    assert next_delay(attempt, uniform=lambda low, high: high) == base * 1.2
    seen = {next_delay(attempt) for _ in range(50)}
    assert len(seen) > 1
    assert all(base * 0.8 <= d <= base * 1.2 for d in seen if d)


def test_the_last_attempt_gives_up() -> None:
    assert next_delay(MAX_ATTEMPTS) is None


def test_429_and_timeouts_wait_at_least_a_minute() -> None:
    assert next_delay(1, status_code=429) == timedelta(seconds=60)
    assert next_delay(1, timed_out=True) == timedelta(seconds=60)
    assert next_delay(3, status_code=429, uniform=lambda *_: 1.0) == timedelta(minutes=30)


def test_retry_after_is_honoured_up_to_a_day() -> None:
    assert next_delay(1, status_code=503, retry_after=timedelta(seconds=90)) == timedelta(
        seconds=90
    )
    assert next_delay(1, retry_after=timedelta(days=30)) == timedelta(hours=24)
    # Never sooner than the schedule says.
    assert next_delay(4, retry_after=timedelta(seconds=1), uniform=lambda *_: 1.0) == timedelta(
        hours=2
    )


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == timedelta(seconds=120)
    assert parse_retry_after("Wed, 01 Jan 2025 12:05:00 GMT", now) == timedelta(minutes=5)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
