"""Reserve → capture over NATS request/reply (billing's process) against a raw nats-py echo.

Ours: `rpc.billing.holds.reserve` then `.capture` of that hold, through skiff_messaging's
`request` (what the orchestrator calls, traced as a service traces: each request carries its
`traceparent` header), each answered by the running billing process in its own database
transaction. Raw: the same two exchanges (same request bytes) with `nc.request`
to a plain nats-py echo responder in a process of its own. And, to tell the bus from the
database, the same two calls as billing's responders make them (holds.calls), in this
process. Samples alternate.
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
from skiff_billing.holds.calls import HoldCalls
from skiff_billing.policy import Policy
from skiff_billing.settings import DEFAULT_PACKAGES
from skiff_contracts.rpc.billing import (
    HOLD_CAPTURE_SUBJECT,
    HOLD_RESERVE_SUBJECT,
    HoldCapture,
    HoldReply,
    HoldReserve,
)
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.driver import driver_connection
from skiff_messaging.rpc import request

ECHO_SUBJECT = "bench.echo"
# What the bench calls in-process: the same two calls billing's responders make.
Direct = Callable[[str, int], Awaitable[None]]
# One durable one-row UPDATE of the organization's account, committing alone (one round trip):
# the floor under each hold call, taken between the samples (the disk is shared, its latency
# moves from one minute to the next).
Floor = Callable[[str], Awaitable[None]]
TOUCH = "UPDATE accounts SET balance = balance WHERE organization_id = $1"
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


def in_process(url: str) -> tuple[Direct, Floor, Callable[[], Awaitable[None]]]:
    """Reserve then capture as billing's responders run them (holds.calls: alone when the rules
    stay quiet), each committed on billing's database, in this process without NATS or the
    hop; the floor under one call; and how to close them."""
    engine = create_engine(url, schema="billing")
    calls = HoldCalls(engine, create_session_factory(engine), Policy(packages=DEFAULT_PACKAGES))

    async def reserve_capture(organization_id: str, n: int) -> None:
        now = datetime.now(UTC)
        hold = await calls.reserve(
            organization_id=organization_id,
            amount=1,
            reference=f"direct-{n}",
            expires_at=now + timedelta(minutes=10),
            description="bench",
            now=now,
        )
        await calls.capture(hold_id=hold.id, amount=None)

    async def floor(organization_id: str) -> None:
        async with driver_connection(engine) as connection:
            await connection.execute(TOUCH, organization_id)

    return reserve_capture, floor, engine.dispose


@dataclass
class Exchanges:
    """Seconds per sample of each way to reserve and capture (or to exchange as many bytes)."""

    ours: list[float] = field(default_factory=list)  # over NATS, billing's process
    direct: list[float] = field(default_factory=list)  # billing's service code, in-process
    raw_two: list[float] = field(default_factory=list)  # two raw request/replies
    raw_one: list[float] = field(default_factory=list)  # one raw request/reply
    floor: list[float] = field(default_factory=list)  # one durable statement, committed alone
    machine: str = ""  # what the CPUs did meanwhile (machine.py)


async def round_trips(
    nc: NATS,
    organization_id: str,
    samples: int,
    direct: Direct,
    floor: Floor,
    warm_up: int = 30,
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

        started = time.perf_counter()
        await floor(organization_id)
        statement = time.perf_counter() - started
        if n >= 0:
            taken.ours.append(took)
            taken.raw_two.append(two)
            taken.raw_one.append(one)
            taken.direct.append(inside)
            taken.floor.append(statement)
        await asyncio.sleep(0)
    return taken
