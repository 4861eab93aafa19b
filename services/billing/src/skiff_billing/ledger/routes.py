"""Credits routes: the balance and the ledger of the caller's organization."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    bad_cursor,
    decode_cursor,
    page_of,
)
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing import timerange
from skiff_billing.access import may_read
from skiff_billing.ledger import repository, service
from skiff_billing.ledger.schemas import ENTRY_TYPES, BalanceOut, TransactionOut
from skiff_billing.models import LedgerEntry

EntryType = Annotated[
    str | None,
    QueryParameter(
        pattern=f"^({'|'.join(ENTRY_TYPES)})$", description="Only entries of this type."
    ),
]
Time = Annotated[
    str | None,
    QueryParameter(
        max_length=40,
        description="An RFC 3339 time or a YYYY-MM-DD date (UTC); `start` inclusive, `end` not.",
    ),
]


def _transaction(entry: LedgerEntry) -> TransactionOut:
    return TransactionOut(
        id=entry.id,
        type=entry.type,  # type: ignore[arg-type]
        amount=entry.amount,
        balance_after=entry.balance_after,
        description=entry.description,
        reference=entry.reference,
        created_at=entry.created_at,
    )


async def _cursor_position(
    session: AsyncSession, organization_id: str, cursor: str | None
) -> tuple[datetime, str] | None:
    """Where the page after `cursor` starts: the `(created_at, id)` of the entry it names (a
    400 when the organization has no such entry)."""
    entry_id = decode_cursor(cursor)
    if entry_id is None:
        return None
    position = await repository.position(session, organization_id, entry_id)
    if position is None:
        raise bad_cursor()
    return position


class CreditsController(Controller):
    path = "/api/v1/credits"
    tags = ["credits"]

    @get("/balance", responses=errors(404))
    async def balance(self, principal: CurrentPrincipal, db_session: DbSession) -> BalanceOut:
        """The organization's credits: total, reserved, available and used this month.

        `credits` is the true balance, below zero after the documented overdraft of running
        sessions or a refund of spent credits; `available` (credits minus the pending holds
        in `reserved`) never is: nothing can be spent then.
        """
        may_read(principal)
        account = await service.account(db_session, principal.organization_id)
        used = await service.used_this_month(
            db_session, principal.organization_id, datetime.now(UTC)
        )
        return BalanceOut(
            credits=account.balance,
            reserved=account.reserved,
            available=account.available,
            usage_this_month=used,
            last_topped_up=account.last_topped_up_at,
        )

    @get("/transactions")
    async def transactions(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        type: EntryType = None,
        start: Time = None,
        end: Time = None,
        # Not the kit's `Limit`: Litestar ignores msgspec.Meta bounds on a query parameter.
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[TransactionOut]:
        """The ledger, newest first: purchases, usage, holds, refunds, disputes, bonuses.

        `?type=` one entry type (another is a 400); `?start=&end=` a time window (a value
        that is not a time is a 400).
        """
        may_read(principal)
        since, until = timerange.window(start, end)
        rows = await repository.entries_page(
            db_session,
            principal.organization_id,
            before=await _cursor_position(db_session, principal.organization_id, cursor),
            limit=limit + 1,
            type_=type,
            start=since,
            end=until,
        )
        return page_of(rows, limit=limit, to_item=_transaction, id_of=lambda row: row.id)
