"""The inbox: which events a consumer has applied, claimed in the handler's own transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import asyncpg
from sqlalchemy import CursorResult, Text, bindparam, column, delete, func, table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import DateTime

from skiff_messaging import literals
from skiff_messaging.tables import INBOX

_inbox = table(
    INBOX,
    column("consumer", Text),
    column("event_id", Text),
    column("handled_at", DateTime(timezone=True)),
)
_CLAIM = (
    insert(_inbox)
    .values(consumer=bindparam("claim_consumer"), event_id=bindparam("claim_event_id"))
    .on_conflict_do_nothing()
    .returning(_inbox.c.event_id)
)


async def claim(session: AsyncSession, consumer: str, event_id: str) -> bool:
    """Record the event as handled by `consumer` in the session's new transaction.

    False when it was handled before (the row exists, or a concurrent delivery holds it and
    then commits). The first statement of the transaction: BEGIN and the INSERT travel in one
    round trip when the session runs on SQLAlchemy's asyncpg adapter with default settings.
    """
    fast = await _claim_in_one_round_trip(session, consumer, event_id)
    if fast is not None:
        return fast
    claimed = await session.execute(
        _CLAIM, {"claim_consumer": consumer, "claim_event_id": event_id}
    )
    return claimed.first() is not None


async def claim_on(connection: asyncpg.Connection, consumer: str, event_id: str) -> bool:
    """`claim` on a bare asyncpg connection: BEGIN, then the inbox row, in one round trip.

    The connection must have no transaction open; on return one is (claimed or not): the
    caller commits it with its own writes, or rolls it back.
    """
    if connection.is_in_transaction():
        raise RuntimeError("claim_on begins the transaction; one is already open")
    if literals.quotable(connection, consumer, event_id):
        return bool(await connection.execute(_begin_and_claim(consumer, event_id)) == "INSERT 0 1")
    await connection.execute("BEGIN")
    status = await connection.execute(
        f"INSERT INTO {INBOX} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",  # noqa: S608
        consumer,
        event_id,
    )
    return bool(status == "INSERT 0 1")


async def forget_handled(session: AsyncSession, *, older_than: timedelta) -> int:
    """Delete inbox rows older than any redelivery can be (use the streams' max age)."""
    result = await session.execute(
        delete(_inbox).where(_inbox.c.handled_at < func.now() - older_than)
    )
    return int(cast(CursorResult[Any], result).rowcount)


class _Transaction:
    """What SQLAlchemy's asyncpg adapter needs of a transaction: commit and rollback."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def commit(self) -> None:
        await self._connection.execute("COMMIT")

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


async def _claim_in_one_round_trip(
    session: AsyncSession, consumer: str, event_id: str
) -> bool | None:
    """Whether claimed; None to let the caller take the portable (two round trip) path.

    SQLAlchemy's adapter sends BEGIN on its own round trip before the first statement. Here
    BEGIN and the INSERT go as one simple query (literals quoted by PostgreSQL's rules), and
    the adapter is handed the open transaction. Anything unexpected: fall back.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    driver: Any = raw.driver_connection
    if (
        driver is None
        or type(adapter).__name__ != "AsyncAdapt_asyncpg_connection"
        or getattr(adapter, "_transaction", True) is not None
        or getattr(adapter, "isolation_level", True) is not None
        or getattr(adapter, "readonly", True)
        or getattr(adapter, "deferrable", True)
        or not literals.quotable(driver, consumer, event_id)
    ):
        return None
    # Handed over first, so that a failure below is rolled back like any other.
    adapter._transaction = _Transaction(driver)
    if hasattr(adapter, "_started"):  # SQLAlchemy 2.0 tracks this flag too
        adapter._started = True
    status = await driver.execute(_begin_and_claim(consumer, event_id))
    return bool(status == "INSERT 0 1")


def _begin_and_claim(consumer: str, event_id: str) -> str:
    """BEGIN and the INSERT as one simple query (skiff_messaging.literals)."""
    return (
        f"BEGIN; INSERT INTO {INBOX} (consumer, event_id) VALUES "  # noqa: S608
        f"({literals.text(consumer)}, {literals.text(event_id)}) ON CONFLICT DO NOTHING"
    )
