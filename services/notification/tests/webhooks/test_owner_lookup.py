"""Identity not answering who owns an organization never fails the notice's transaction: the
endpoint is still disabled and its messages kept; nobody is told, and that is logged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from skiff_contracts.rpc.identity import ORGANIZATION_OWNERS_SUBJECT
from skiff_testing.http_receiver import Receiver, Reply
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webhook_support import Log, OrgOf, publish, started, told, until


@pytest.fixture
async def silent_identity(nats_url: str) -> AsyncIterator[list[bytes]]:
    """Something that takes the owners requests and never answers (identity hung)."""
    asked: list[bytes] = []

    async def swallow(msg: Msg) -> None:
        asked.append(msg.data)

    connection = await nats.connect(nats_url)
    await connection.subscribe(ORGANIZATION_OWNERS_SUBJECT, cb=swallow)
    await connection.flush()
    yield asked
    await connection.drain()


async def test_identity_not_answering_leaves_the_endpoint_disabled_and_nobody_told(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    sessions: async_sessionmaker[AsyncSession],
    receiver: Receiver,
    silent_identity: list[bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.answer = lambda _: Reply(status=410)
    async with start_service(owner_lookup_timeout_seconds=0.3) as service:
        org = org_of(service)  # its owner's events never reached notification
        endpoint = await org.endpoint(receiver.url)
        await publish(bus_js, started(org.id), org.id)
        await until(lambda: _disabled(log, endpoint["id"]), what="disabled")
        await publish(bus_js, started(org.id), org.id)
        await until(lambda: _parked(log, endpoint["id"], 2), what="both messages kept")

    assert len(silent_identity) == 1, "asked once, then quiet for a while"
    assert org.id.encode() in silent_identity[0]
    assert await told(sessions, "webhook_disabled") == ([], [])
    warnings = [r.getMessage() for r in caplog.records if r.name == "skiff_notification.directory"]
    assert any("identity did not answer" in w and org.id in w for w in warnings), warnings


async def _disabled(log: Log, endpoint_id: str) -> bool:
    return not (await log.endpoint(endpoint_id)).enabled


async def _parked(log: Log, endpoint_id: str, count: int) -> bool:
    statuses = [m.status for m in await log.messages(endpoint_id)]
    return statuses == ["endpoint_disabled"] * count
