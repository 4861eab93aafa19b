"""Webhooks benchmark: event committed → delivered, sustained deliveries/s, and isolation.

`uv run python bench/webhooks/run.py [--latency 300] [--seconds 10]`. PostgreSQL (durable)
and NATS from the wheels, notification as its own process, receivers on loopback in this
process. An event is committed to a (sandbox) outbox, relayed to JetStream, consumed by
notification, stored as messages and sent by the dispatcher: the whole path.

1. latency: one endpoint; events one at a time; COMMIT returned → the receiver has it.
   Baseline: a bare httpx POST to the same receiver, measured alongside.
2. throughput: 50 endpoints (50 receivers) of one organization, all subscribed; events
   committed for `--seconds` at 1 500 deliveries/s offered (30 events/s, each to 50); what
   arrives per second, from the first commit to the last arrival.
3. isolation: 50 organizations with one endpoint each (on the same 50 receivers); events
   round-robin over them at 50/s (one delivery each: independent samples), once with all
   healthy and once with the first endpoint hanging on every request; p99 of the other 49.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx
import structlog
from skiff_contracts import new_id
from skiff_embedded import free_port
from skiff_testing.http_receiver import Received, Receiver, Reply
from skiff_testing.services import GatewaySigner
from world import Publisher, World, build, notification, servers

ENDPOINTS = 50
# Isolation runs: one event per delivery (independent samples), well below capacity, so p99
# measures delivery rather than a queue building up on a shared two-core machine.
PACED_DELIVERIES_PER_SECOND = 50
# The throughput run offers more than the goal; what is delivered per second is measured.
OFFERED = 1500


class Arrivals:
    """When each (session id, receiver) pair first arrived."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, int], float] = {}
        self.changed = asyncio.Event()

    def answer_for(self, index: int, hang: list[bool]) -> object:
        def answer(request: Received) -> Reply:
            if hang[0]:
                return Reply(hang=True)
            session_id = json.loads(request.body)["data"]["session_id"]
            self.first.setdefault((session_id, index), request.at)
            self.changed.set()
            return Reply(status=204, body=b"")

        return answer

    async def wait(self, keys: list[tuple[str, int]], within: float) -> None:
        deadline = time.monotonic() + within
        while any(key not in self.first for key in keys):
            left = deadline - time.monotonic()
            if left <= 0:
                missing = sum(key not in self.first for key in keys)
                raise TimeoutError(f"{missing} deliveries missing")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1))


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] * 1000


async def make_endpoint(
    client: httpx.AsyncClient, signer: GatewaySigner, org: str, url: str
) -> None:
    headers = signer.headers(signer.user(org, new_id("usr")))
    answer = await client.post(
        "/api/v1/webhooks",
        headers=headers,
        json={"url": url, "events": ["sandbox.session.started"]},
    )
    assert answer.status_code == 201, answer.text


async def baseline(receiver: Receiver, count: int) -> list[float]:
    """A bare httpx POST (keep-alive) to the receiver and its answer: the floor of any send."""
    samples = []
    async with httpx.AsyncClient() as client:
        for _ in range(count):
            began = time.monotonic()
            await client.post(receiver.url, content=b'{"data":{"session_id":"baseline"}}')
            samples.append(time.monotonic() - began)
    return samples


async def latency(publisher: Publisher, arrivals: Arrivals, org: str, count: int) -> list[float]:
    samples = []
    for n in range(-30, count):  # 30 warm-up events
        session_id, committed = await publisher.commit(org)
        await arrivals.wait([(session_id, 0)], within=10)
        if n >= 0:
            samples.append(arrivals.first[(session_id, 0)] - committed)
    return samples


async def flood(
    publisher: Publisher, arrivals: Arrivals, org: str, seconds: float, per_second: float
) -> tuple[float, dict[int, list[float]]]:
    """Commit events for `seconds` at `per_second`; (deliveries/s, latencies by endpoint)."""
    sent: list[tuple[str, float]] = []
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        due = began + len(sent) / per_second
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        sent.append(await publisher.commit(org))
    healthy = range(1, ENDPOINTS)
    keys = [(s, i) for s, _ in sent for i in healthy]
    await arrivals.wait(keys, within=120)
    last = max(arrivals.first[key] for key in keys)
    rate = len(keys) / (last - sent[0][1])
    by_endpoint: dict[int, list[float]] = defaultdict(list)
    for session_id, committed in sent:
        for index in healthy:
            by_endpoint[index].append(arrivals.first[(session_id, index)] - committed)
    return rate, by_endpoint


async def spread(
    publisher: Publisher, arrivals: Arrivals, orgs: list[str], seconds: float, per_second: float
) -> list[float]:
    """Events round-robin over the organizations (one endpoint each, receiver i for org i) for
    `seconds` at `per_second`; the latency of each delivery to orgs 1.. (org 0's may hang)."""
    sent: list[tuple[str, float, int]] = []
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        await asyncio.sleep(max(0.0, began + len(sent) / per_second - time.monotonic()))
        index = len(sent) % len(orgs)
        session_id, committed = await publisher.commit(orgs[index])
        sent.append((session_id, committed, index))
    measured = [(s, c, i) for s, c, i in sent if i != 0]
    await arrivals.wait([(s, i) for s, _, i in measured], within=120)
    return [arrivals.first[(s, i)] - c for s, c, i in measured]


async def settle(world: World) -> None:
    """Wait until no message is pending and every attempt is recorded."""
    connection = await asyncpg.connect(world.urls["notification"].replace("+asyncpg", "", 1))
    try:
        deadline = time.monotonic() + 300
        while await connection.fetchval(
            "select count(*) from notification.webhook_messages where status <> 'succeeded'"
        ):
            assert time.monotonic() < deadline, "the throughput run never finished"
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    await asyncio.sleep(1)


async def bench(world: World, args: argparse.Namespace) -> None:
    signer = GatewaySigner()
    arrivals = Arrivals()
    hang = [[False] for _ in range(ENDPOINTS)]
    receivers = [Receiver(arrivals.answer_for(i, hang[i])) for i in range(ENDPOINTS)]  # type: ignore[arg-type]
    for receiver in receivers:
        await receiver.start()
    publisher = Publisher(world)
    port = free_port()
    with notification(world, signer, port):
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api,
            publisher.relaying(),
        ):
            solo, many = new_id("org"), new_id("org")
            await make_endpoint(api, signer, solo, receivers[0].url + "/solo")
            singles = [new_id("org") for _ in receivers]
            for org, receiver in zip(singles, receivers, strict=True):
                await make_endpoint(api, signer, many, receiver.url + "/many")
                await make_endpoint(api, signer, org, receiver.url + "/single")
            floor = await baseline(receivers[0], 300)
            ours = await latency(publisher, arrivals, solo, args.latency)
            gc.collect()
            gc.freeze()  # the receivers' garbage is not the dispatcher's latency
            rate = PACED_DELIVERIES_PER_SECOND
            calm = await spread(publisher, arrivals, singles, args.isolation_seconds, rate)
            # Between the two isolation runs, so its after-effects (vacuum, checkpoints) can
            # only make the run with a hanging endpoint look worse, never better.
            best, _ = await flood(publisher, arrivals, many, args.seconds, OFFERED / ENDPOINTS)
            await settle(world)
            hang[0][0] = True
            stormy = await spread(publisher, arrivals, singles, args.isolation_seconds, rate)
    for receiver in receivers:
        await receiver.stop()
    report(floor, ours, best, calm, stormy, args)


def report(
    floor: list[float],
    ours: list[float],
    rate: float,
    calm_all: list[float],
    stormy_all: list[float],
    args: argparse.Namespace,
) -> None:
    print(
        f"PostgreSQL durable=True; notification in its own process; {args.latency} sequential"
        f" events; {ENDPOINTS} endpoints; {args.seconds:g} s throughput run;"
        f" {args.isolation_seconds:g} s per isolation run"
    )
    print(f"bare_httpx_post        p50 {pct(floor, 50):7.2f} ms  p99 {pct(floor, 99):7.2f} ms")
    print(f"commit_to_delivery     p50 {pct(ours, 50):7.2f} ms  p99 {pct(ours, 99):7.2f} ms")
    print(f"deliveries_per_second  {rate:7.0f}  ({OFFERED}/s offered: 1 event → 50 endpoints)")
    print(
        f"{PACED_DELIVERIES_PER_SECOND} deliveries/s over 50 organizations, the 49 healthy: p99"
        f" {pct(calm_all, 99):.1f} ms all healthy, {pct(stormy_all, 99):.1f} ms with one hanging"
    )
    p50, p99 = pct(ours, 50), pct(ours, 99)
    ratio = pct(stormy_all, 99) / pct(calm_all, 99)
    target("delivery_latency_p50", f"{p50:.1f} ms", "<= 25 ms", p50 <= 25)
    target("delivery_latency_p99", f"{p99:.1f} ms", "<= 150 ms", p99 <= 150)
    target("deliveries_per_second", f"{rate:.0f}", ">= 500", rate >= 500)
    target("isolation_p99", f"{ratio:.2f}x the run without it", "<= 2.00x", ratio <= 2.0)


def target(name: str, measured: str, goal: str, met: bool) -> None:
    print(f"target {name}: {measured} (goal {goal}) {'met' if met else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--isolation-seconds", type=float, default=20.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with (
        tempfile.TemporaryDirectory(prefix="skiff-bench-") as root,
        servers(Path(root)) as (
            admin_dsn,
            nats_url,
        ),
    ):

        async def run() -> None:
            await bench(await build(admin_dsn, nats_url), args)

        asyncio.run(run())


if __name__ == "__main__":
    main()
