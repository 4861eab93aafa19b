"""Test helpers for services on the bus: publish as another service, read streams, wait.

Shared by every service's tests, so each one publishes, waits and inspects the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from skiff_contracts import Envelope, decode_envelope


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)


async def publish(js: JetStreamContext, envelope: Envelope, *, msg_id: str | None = None) -> bool:
    """Publish as identity's relay does (Nats-Msg-Id = event id); True if the stream had it."""
    ack = await js.publish(
        envelope.type, envelope.encode(), headers={"Nats-Msg-Id": msg_id or envelope.id}
    )
    return bool(ack.duplicate)


async def stream_envelopes(js: JetStreamContext, stream: str) -> list[Envelope]:
    """Every event stored in `stream`, oldest first."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [
        decode_envelope((await js.get_msg(stream, seq)).data or b"")
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]


async def consumed_everything(js: JetStreamContext, durable: str, stream: str = "IDENTITY") -> bool:
    """`durable` has acked every message of `stream`: nothing pending or unacked."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return False
    last = (await js.stream_info(stream)).state.last_seq
    return (
        info.num_pending == 0
        and info.num_ack_pending == 0
        and info.ack_floor is not None
        and info.ack_floor.stream_seq == last
    )


async def empty_schema(database_url: str, schema: str) -> None:
    """Truncate every table of `schema` but Alembic's: a test starts migrated and empty."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", "", 1))
    try:
        tables = await connection.fetch(
            "select tablename from pg_tables"
            " where schemaname = $1 and tablename <> 'alembic_version'",
            schema,
        )
        names = ", ".join(f'"{schema}"."{row["tablename"]}"' for row in tables)
        await connection.execute("set lock_timeout = '5s'")
        await connection.execute(f"truncate {names} restart identity cascade")
    finally:
        await connection.close()
