"""Helpers of the rate-limit tests: stay clear of a window's edge, read the limit headers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx


async def clear_of_window_edge(window: int, margin: float = 3.0) -> None:
    """Wait, if needed, so the current fixed window has `margin` seconds left.

    A test that spends a quota must not straddle two windows: the second would start afresh.
    """
    left = window - time.time() % window
    if left < margin:
        await asyncio.sleep(left + 0.1)


def limit_headers(response: httpx.Response) -> dict[str, str]:
    """The five rate-limit headers of an answer (missing ones absent)."""
    names = (
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "ratelimit-policy",
        "ratelimit",
    )
    return {name: response.headers[name] for name in names if name in response.headers}


def statuses(responses: list[Any]) -> list[int]:
    return [response.status_code for response in responses]
