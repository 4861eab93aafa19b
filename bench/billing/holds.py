"""Reserve → capture over NATS request/reply (billing's process) against a raw nats-py echo.

Ours: `rpc.billing.holds.reserve` then `.capture` of that hold, through skiff_messaging's
`request` (what the orchestrator calls), each answered by the running billing process in its
own database transaction. Raw: the same two exchanges (same request bytes) with `nc.request`
to a plain nats-py echo responder in a process of its own. Samples alternate.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import msgspec
from nats.aio.client import Client as NATS
from skiff_contracts.rpc.billing import (
    HOLD_CAPTURE_SUBJECT,
    HOLD_RESERVE_SUBJECT,
    HoldCapture,
    HoldReply,
    HoldReserve,
)
from skiff_messaging.rpc import request

ECHO_SUBJECT = "bench.echo"
TIMEOUT = 10.0


class Echo:
    """The echo responder's process."""

    def __init__(self, nats_url: str) -> None:
        script = Path(__file__).with_name("echo.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script), nats_url, ECHO_SUBJECT],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo responder did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


async def round_trips(
    nc: NATS, organization_id: str, samples: int, warm_up: int = 30
) -> tuple[list[float], list[float], list[float]]:
    """Seconds per (reserve → capture, two raw request/replies, one raw request/reply)."""
    ours: list[float] = []
    raw_two: list[float] = []
    raw_one: list[float] = []
    for n in range(-warm_up, samples):
        reserve = HoldReserve(
            organization_id=organization_id, amount=1, reference=f"bench-{n}", expires_in=600
        )
        started = time.perf_counter()
        hold = await request(nc, HOLD_RESERVE_SUBJECT, reserve, HoldReply, timeout=TIMEOUT)
        capture = HoldCapture(hold_id=hold.id)
        done = await request(nc, HOLD_CAPTURE_SUBJECT, capture, HoldReply, timeout=TIMEOUT)
        took = time.perf_counter() - started
        if done.status != "captured" or done.captured != 1:
            raise RuntimeError(f"hold {hold.id} ended {done.status}")

        first, second = msgspec.json.encode(reserve), msgspec.json.encode(capture)
        started = time.perf_counter()
        await nc.request(ECHO_SUBJECT, first, timeout=TIMEOUT)
        one = time.perf_counter() - started
        await nc.request(ECHO_SUBJECT, second, timeout=TIMEOUT)
        two = time.perf_counter() - started
        if n >= 0:
            ours.append(took)
            raw_two.append(two)
            raw_one.append(one)
        await asyncio.sleep(0)
    return ours, raw_two, raw_one
