"""The usage export: a CSV streamed row by row, read in pages in short transactions.

Columns: `kind` (`ledger` or `usage`), `time` (RFC 3339 UTC; a usage row is its day), `type`
(the entry type or the metric), `amount` (signed credits, or the metric's count), and for
ledger rows `balance_after`, `reference`, `id`, `description`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_billing.ledger import repository as ledger
from skiff_billing.usage import rollups

HEADER = ["kind", "time", "type", "amount", "balance_after", "reference", "id", "description"]
PAGE = 500


def _line(values: Sequence[object]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode()


async def rows(
    sessions: async_sessionmaker[AsyncSession],
    organization_id: str,
    start: datetime,
    end: datetime,
) -> AsyncIterator[bytes]:
    """The CSV: header, ledger entries oldest first, then the daily usage of each metric."""
    yield _line(HEADER)
    after: tuple[datetime, str] | None = None
    while True:
        async with sessions() as session:
            page = await ledger.entries_between(
                session, organization_id, start=start, end=end, after=after, limit=PAGE
            )
        for entry in page:
            yield _line(
                [
                    "ledger",
                    entry.created_at.isoformat().replace("+00:00", "Z"),
                    entry.type,
                    entry.amount,
                    entry.balance_after,
                    entry.reference,
                    entry.id,
                    entry.description,
                ]
            )
        if len(page) < PAGE:
            break
        after = (page[-1].created_at, page[-1].id)
    last_day = (end - timedelta(microseconds=1)).date()
    async with sessions() as session:
        for metric in rollups.METRICS:
            days = await rollups.daily(
                session, organization_id, metric, start.date(), last_day + timedelta(days=1)
            )
            for day in sorted(days):
                stamp = f"{day.isoformat()}T00:00:00Z"
                yield _line(["usage", stamp, metric, days[day], "", "", "", ""])
