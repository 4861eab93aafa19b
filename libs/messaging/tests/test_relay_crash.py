"""A relay killed between the publish and the DELETE loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from messaging_helpers import CHANNEL, SCHEMA, Pinged, ServiceDb, eventually, stream_messages
from nats.js import JetStreamContext
from skiff_contracts import decode_envelope
from skiff_messaging import Outbox, OutboxRelay

SCRIPT = Path(__file__).with_name("relay_process.py")
outbox = Outbox(source="skiff/svc", channel=CHANNEL)


async def commit_events(db: ServiceDb, count: int) -> set[str]:
    async with db.sessions() as session, session.begin():
        return {(await outbox.record(session, Pinged(n=n))).id for n in range(count)}


@pytest.mark.parametrize("path", ["drain", "notify"])
async def test_a_relay_killed_after_the_acks_loses_and_duplicates_nothing(
    service_db: ServiceDb, js: JetStreamContext, nats_url: str, path: str
) -> None:
    if path == "drain":
        expected = await commit_events(service_db, 20)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        service_db.dsn,
        nats_url,
        path,
        stdout=asyncio.subprocess.PIPE,
    )
    if path == "notify":
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 20) == b"leading\n"
        expected = await commit_events(service_db, 20)
    assert await asyncio.wait_for(process.wait(), 20) == -signal.SIGKILL

    before = await stream_messages(js)
    assert before, "the relay died before publishing anything: the test proves nothing"
    assert await service_db.scalar("select count(*) from outbox") == 20

    relay = OutboxRelay(dsn=service_db.dsn, schema=SCHEMA, channel=CHANNEL, js=js)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(
            lambda: _outbox_empty(service_db), what="the restarted relay drains the outbox"
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    ids = [decode_envelope(m.data or b"").id for m in await stream_messages(js)]
    assert len(ids) == len(set(ids)), "an event is in the stream twice"
    assert set(ids) == expected


async def _outbox_empty(db: ServiceDb) -> bool:
    return bool(await db.scalar("select count(*) from outbox") == 0)
