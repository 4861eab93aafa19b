"""Started minutes and running time: what billing is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from skiff_sandbox_runner.metering import active_seconds, final_minutes, minutes_started


@pytest.mark.parametrize(("seconds", "started"), [(0, 1), (59.9, 1), (60, 2), (61, 2), (125, 3)])
def test_a_minute_is_started_as_soon_as_running_time_enters_it(
    seconds: float, started: int
) -> None:
    assert minutes_started(seconds) == started


@pytest.mark.parametrize(("seconds", "billed"), [(0, 1), (1, 1), (60, 1), (61, 2), (120.5, 3)])
def test_the_final_count_is_the_ceiling_of_the_exact_seconds_and_at_least_one(
    seconds: float, billed: int
) -> None:
    assert final_minutes(seconds) == billed


def test_running_time_adds_the_current_segment_only_while_running() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert active_seconds(30.0, None, now) == 30.0
    assert active_seconds(30.0, now - timedelta(seconds=15), now) == 45.0
