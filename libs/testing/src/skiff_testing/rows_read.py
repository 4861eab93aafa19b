"""How many rows of a table PostgreSQL fetched in the current transaction: what a read-path
test bounds, so a list that reads the whole table instead of its page fails."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_FETCHED = text(
    "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
    " FROM pg_stat_xact_user_tables WHERE relname = :table"
)


async def rows_fetched(session: AsyncSession, table: str) -> int:
    """Rows of `table` read so far in this transaction, by sequential and index scans
    (`pg_stat_xact_user_tables`); take it before and after a read, in one transaction."""
    return int(await session.scalar(_FETCHED, {"table": table}) or 0)
