"""Credits routes: the balance and the ledger of the caller's organization."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_billing.ledger import repository, service
from skiff_billing.ledger.schemas import BalanceOut, TransactionOut
from skiff_billing.models import LedgerEntry


def _transaction(entry: LedgerEntry) -> TransactionOut:
    return TransactionOut(
        id=entry.id,
        type=entry.type,
        amount=entry.amount,
        balance_after=entry.balance_after,
        description=entry.description,
        reference=entry.reference,
        created_at=entry.created_at,
    )


class CreditsController(Controller):
    path = "/api/v1/credits"
    tags = ["credits"]

    @get("/balance")
    async def balance(self, principal: CurrentPrincipal, db_session: DbSession) -> BalanceOut:
        """The organization's credits: total, reserved, available and used this month.

        `credits` is the true balance, below zero after the documented overdraft of running
        sessions; `available` never is (nothing can be spent then).
        """
        account = await service.account(db_session, principal.organization_id)
        used = await repository.spent_since(
            db_session, principal.organization_id, service.month_start(datetime.now(UTC))
        )
        return BalanceOut(
            credits=account.balance,
            reserved=account.reserved,
            available=max(account.balance - account.reserved, 0),
            usage_this_month=used,
            last_topped_up=account.last_topped_up_at,
        )

    @get("/transactions")
    async def transactions(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        # Not the kit's `Limit`: Litestar ignores msgspec.Meta bounds on a query parameter.
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[TransactionOut]:
        """The ledger, newest first: every purchase, usage, bonus, reservation and refund."""
        rows = await repository.entries_page(
            db_session, principal.organization_id, before_id=decode_cursor(cursor), limit=limit + 1
        )
        return page_of(rows, limit=limit, to_item=_transaction, id_of=lambda row: row.id)
