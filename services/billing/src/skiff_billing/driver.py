"""The asyncpg connection under a SQLAlchemy session, for the hot paths' database functions.

Calling a function on the session's own driver connection keeps it in the caller's
transaction (with the inbox row and the outbox events, DESIGN rule 2) while skipping what
costs the most per call: statement compilation, ORM loading and the unit of work. Two things
the session would otherwise do by itself are done here: pending ORM changes are flushed
before the call (so the function sees them), and rows the function changed are written into
objects the session has already loaded (so a later flush does not undo them, and code that
reads them sees the change).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from skiff_billing.models import Base


async def in_transaction(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, its transaction begun, its pending changes flushed."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    raw = await (await session.connection()).get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if type(adapter).__name__ != "AsyncAdapt_asyncpg_connection" or adapter.autocommit:
        raise RuntimeError("billing's sessions run on SQLAlchemy's asyncpg adapter, not autocommit")
    if adapter._transaction is None:
        # The adapter sends BEGIN lazily, before its first statement; a statement sent
        # straight to the driver would otherwise run (and commit) on its own.
        await adapter._start_transaction()
    connection: asyncpg.Connection = raw.driver_connection
    return connection


def refresh_loaded(session: AsyncSession, model: type[Base], key: str, **values: Any) -> None:
    """Set `values` on the session's loaded `model` object of primary key `key`, if any, as
    if they had been loaded (a later flush does not write them back)."""
    found = session.sync_session.identity_map.get(session.identity_key(model, key))
    if found is None:
        return
    for name, value in values.items():
        set_committed_value(found, name, value)
