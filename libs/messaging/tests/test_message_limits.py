"""No message can exceed what the bus accepts, and none can block the others (issue 9)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec
import pytest
from messaging_helpers import CHANNEL, SCHEMA, Pinged, ServiceDb, eventually, running
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from skiff_contracts import Envelope, decode_envelope
from skiff_messaging import (
    EventTooLarge,
    MessageTooLarge,
    Outbox,
    OutboxRelay,
    RequestTooLarge,
    connect,
    request,
)
from skiff_messaging.limits import header_size, max_payload, message_size
from sqlalchemy import TextClause, text

outbox = Outbox(source="skiff/svc", channel=CHANNEL)


class Echo(msgspec.Struct):
    text: str


def test_a_message_is_measured_as_the_server_counts_it() -> None:
    headers = {"Nats-Msg-Id": "evt_1", "traceparent": "00-ab-cd-01"}
    # NATS/1.0\r\n + "Nats-Msg-Id: evt_1\r\n" + "traceparent: 00-ab-cd-01\r\n" + \r\n
    assert header_size(headers) == 10 + 20 + 26 + 2
    assert message_size(b"x" * 100, headers) == 158
    assert message_size(b"x" * 100) == 100


async def test_a_message_over_max_payload_with_its_headers_is_refused_and_the_connection_lives(
    nc: NATS,
) -> None:
    limit = nc.max_payload
    headers = {"X-Padding": "p" * 100}
    # The payload alone fits (nats-py's own check passes); with the headers it does not.
    payload = b"x" * (limit - 50)
    got: list[Msg] = []
    sub = await nc.subscribe("limits.probe", cb=_collector(got))

    with pytest.raises(MessageTooLarge) as refused:
        await nc.publish("limits.probe", payload, headers=headers)

    assert refused.value.limit == limit
    assert refused.value.size == message_size(payload, headers)
    await nc.publish("limits.probe", b"still here")
    await eventually(lambda: _arrived(got, 1), what="a later message delivered")
    assert nc.is_connected
    await sub.unsubscribe()


async def test_a_protocol_error_from_the_server_reconnects_and_keeps_subscriptions(
    nats_url: str,
) -> None:
    client = await connect(nats_url, name="limits-reconnect")
    got: list[Msg] = []
    await client.subscribe("limits.after", cb=_collector(got))
    try:
        # Bypass Skiff's size check (nats-py's only counts the payload): the server answers
        # -ERR 'Maximum Payload Violation' and closes the connection.
        oversized = b"x" * (client.max_payload - 10)
        await NATS.publish(client, "limits.after", oversized, headers={"X-Pad": "p" * 100})

        async def delivered_again() -> bool:
            if client.is_connected:
                await client.publish("limits.after", b"after")
            await asyncio.sleep(0.05)
            return bool(got)

        await eventually(delivered_again, within=15, what="reconnected and resubscribed")
        assert not client.is_closed
        assert got[-1].data == b"after"
    finally:
        await client.close()


async def test_an_event_too_large_for_the_bus_is_refused_in_its_transaction(
    service_db: ServiceDb,
) -> None:
    with pytest.raises(EventTooLarge) as refused:
        async with service_db.sessions() as session, session.begin():
            await outbox.record(session, Pinged(n=1, note="\x01" * (max_payload() // 4)))

    assert refused.value.status_code == 413
    assert refused.value.details["max_bytes"] == max_payload()
    assert refused.value.details["size"] > max_payload()
    assert await service_db.scalar("select count(*) from outbox") == 0


async def test_an_unpublishable_row_is_buried_and_the_rows_after_it_go_out(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    # A row left by older code (or written by hand) that can never be sent.
    poison = Envelope.wrap(Pinged(n=1, note="x" * max_payload()), source="skiff/svc")
    async with service_db.sessions() as session, session.begin():
        row = {"id": poison.id, "subject": "identity.test.pinged", "p": poison.encode()}
        await session.execute(_insert_row(), row)
        after = await outbox.record(session, Pinged(n=2))
    relay = OutboxRelay(dsn=service_db.dsn, schema=SCHEMA, channel=CHANNEL, js=js)

    async with running(relay.run):
        await eventually(
            lambda: _outbox_empty(service_db), within=10, what="outbox emptied past the poison"
        )

    published = await js.get_last_msg("IDENTITY", "identity.test.pinged")
    assert decode_envelope(published.data or b"").id == after.id
    dead = await service_db.scalar(
        "select reason from dead_letters where consumer = 'outbox-relay' and event_id = :id",
        id=poison.id,
    )
    assert "accepts at most" in dead


async def test_a_request_too_large_is_not_sent(nc: NATS) -> None:
    with pytest.raises(RequestTooLarge) as refused:
        await request(nc, "limits.rpc", Echo(text="\x01" * nc.max_payload), Echo, timeout=1)

    assert refused.value.limit == nc.max_payload
    assert nc.is_connected


def _insert_row() -> TextClause:
    return text("INSERT INTO outbox (id, subject, payload) VALUES (:id, :subject, :p)")


def _collector(got: list[Msg]) -> Callable[[Msg], Awaitable[None]]:
    async def collect(msg: Msg) -> None:
        got.append(msg)

    return collect


async def _arrived(got: list[Msg], count: int) -> bool:
    return len(got) >= count


async def _outbox_empty(db: ServiceDb) -> bool:
    return bool(await db.scalar("select count(*) from outbox") == 0)
