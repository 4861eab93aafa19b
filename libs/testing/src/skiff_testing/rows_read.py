"""How many rows of a table PostgreSQL fetched in the current transaction: what a read-path
test bounds, so a list that reads the whole table instead of its page fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")

_FETCHED = text(
    "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
    " FROM pg_stat_xact_user_tables WHERE relname = :table"
)


async def rows_fetched(session: AsyncSession, table: str) -> int:
    """Rows of `table` read so far in this transaction, by sequential and index scans
    (`pg_stat_xact_user_tables`); take it before and after a read, in one transaction."""
    return int(await session.scalar(_FETCHED, {"table": table}) or 0)


async def rows_fetched_by(
    sessions: async_sessionmaker[AsyncSession],
    table: str,
    read: Callable[[AsyncSession], Awaitable[T]],
) -> tuple[int, T]:
    """Run `read` in a transaction of its own: the rows of `table` it fetched, and its answer."""
    async with sessions() as session, session.begin():
        before = await rows_fetched(session, table)
        answer = await read(session)
        return await rows_fetched(session, table) - before, answer
