"""Reserve → capture over NATS request/reply (billing's process) against a raw nats-py echo.

Ours: `rpc.billing.holds.reserve` then `.capture` of that hold, through skiff_messaging's
`request` (what the orchestrator calls), each answered by the running billing process in its
own database transaction. Raw: the same two exchanges (same request bytes) with `nc.request`
to a plain nats-py echo responder in a process of its own. And, to tell the bus from the
database, the same two transactions through billing's holds service in this process. Samples
alternate.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from nats.aio.client import Client as NATS
from skiff_billing.holds import service
from skiff_billing.policy import Policy
from skiff_contracts.rpc.billing import (
    HOLD_CAPTURE_SUBJECT,
    HOLD_RESERVE_SUBJECT,
    HoldCapture,
    HoldReply,
    HoldReserve,
)
from skiff_kit.db import create_engine, create_session_factory
from skiff_messaging.rpc import request

ECHO_SUBJECT = "bench.echo"
# What the bench calls in-process: the same two transactions billing's responders run.
Direct = Callable[[str, int], Awaitable[None]]
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


def in_process(url: str) -> tuple[Direct, Callable[[], Awaitable[None]]]:
    """Reserve then capture through billing's holds service in this process, each in its own
    transaction on billing's database (what a responder runs, without NATS or the hop); and
    how to close it."""
    engine = create_engine(url, schema="billing")
    sessions, policy = create_session_factory(engine), Policy()

    async def reserve_capture(organization_id: str, n: int) -> None:
        now = datetime.now(UTC)
        async with sessions() as session, session.begin():
            hold = await service.reserve(
                session,
                organization_id=organization_id,
                amount=1,
                reference=f"direct-{n}",
                expires_at=now + timedelta(minutes=10),
                description="bench",
                policy=policy,
                now=now,
            )
        async with sessions() as session, session.begin():
            await service.capture(
                session, hold_id=hold.id, amount=None, policy=policy, now=datetime.now(UTC)
            )

    return reserve_capture, engine.dispose


@dataclass
class Exchanges:
    """Seconds per sample of each way to reserve and capture (or to exchange as many bytes)."""

    ours: list[float] = field(default_factory=list)  # over NATS, billing's process
    direct: list[float] = field(default_factory=list)  # billing's service code, in-process
    raw_two: list[float] = field(default_factory=list)  # two raw request/replies
    raw_one: list[float] = field(default_factory=list)  # one raw request/reply


async def round_trips(
    nc: NATS, organization_id: str, samples: int, direct: Direct, warm_up: int = 30
) -> Exchanges:
    """The samples, alternating between the ways."""
    taken = Exchanges()
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

        started = time.perf_counter()
        await direct(organization_id, n)
        inside = time.perf_counter() - started
        if n >= 0:
            taken.ours.append(took)
            taken.raw_two.append(two)
            taken.raw_one.append(one)
            taken.direct.append(inside)
        await asyncio.sleep(0)
    return taken
