"""NATS comes and goes: a service may start first, and its consumer survives a restart."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from messaging_helpers import Pinged, ServiceDb, eventually, running
from skiff_contracts import Envelope
from skiff_embedded import EmbeddedNats, free_port
from skiff_messaging import EventConsumer, connect, ensure_streams
from sqlalchemy.ext.asyncio import AsyncSession


async def test_connect_waits_for_a_server_that_starts_later(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    connecting = asyncio.create_task(connect(server.url, name="early-bird"))
    await asyncio.sleep(0.5)
    assert not connecting.done()
    await asyncio.to_thread(server.start)
    try:
        nc = await asyncio.wait_for(connecting, 10)
        assert nc.is_connected
        await nc.close()
    finally:
        await asyncio.to_thread(server.stop)


@pytest.mark.parametrize("stop", ["graceful", "killed"])
async def test_a_consumer_keeps_consuming_across_a_nats_restart(
    tmp_path: Path, service_db: ServiceDb, stop: str
) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    await asyncio.to_thread(server.start)
    nc = await connect(server.url, name="survivor")
    seen: list[int] = []

    async def on_pinged(_session: AsyncSession, _envelope: Envelope, payload: Any) -> None:
        seen.append(payload.n)

    try:
        js = nc.jetstream()
        await ensure_streams(js, ["IDENTITY"])
        consumer = EventConsumer(
            js=js,
            session_factory=service_db.sessions,
            stream="IDENTITY",
            durable="svc--identity-test-pinged",
            handlers={"identity.test.pinged": (Pinged, on_pinged)},
        )
        async with running(consumer.run):
            await js.publish("identity.test.pinged", _event(1))
            await eventually(lambda: _seen(seen, [1]), what="the first event")

            if stop == "killed":  # no goodbye: the pull requests just vanish with the server
                assert server.pid is not None
                os.kill(server.pid, signal.SIGKILL)
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.start)  # same port, same JetStream store
            await eventually(lambda: _connected(nc), within=15, what="reconnected")

            await js.publish("identity.test.pinged", _event(2))
            await eventually(lambda: _seen(seen, [1, 2]), within=10, what="consuming again")
    finally:
        await nc.close()
        await asyncio.to_thread(server.stop)


def _event(n: int) -> bytes:
    return Envelope.wrap(Pinged(n=n), source="skiff/test").encode()


async def _seen(seen: list[int], expected: list[int]) -> bool:
    return seen == expected


async def _connected(nc: Any) -> bool:
    return bool(nc.is_connected)
