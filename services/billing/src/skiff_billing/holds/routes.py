"""GET /api/v1/billing/holds: the organization's open and recent holds."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_billing.access import may_read
from skiff_billing.holds import repository
from skiff_billing.holds.schemas import HoldOut
from skiff_billing.models import Hold

Status = Annotated[
    str | None,
    QueryParameter(
        pattern="^(pending|captured|released|expired)$", description="Only this status."
    ),
]


def hold_out(hold: Hold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        amount=hold.amount,
        captured=hold.captured,
        status=hold.status,  # type: ignore[arg-type]
        reference=hold.reference,
        description=hold.description,
        expires_at=hold.expires_at,
        created_at=hold.created_at,
        resolved_at=hold.resolved_at,
    )


@get("/api/v1/billing/holds", tags=["billing"])
async def list_holds(
    principal: CurrentPrincipal,
    db_session: DbSession,
    status: Status = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Page[HoldOut]:
    """Credits set aside by deployments and other two-phase spends, newest first.

    `pending` holds count in `reserved` of the balance; each ends `captured` (spent, all or
    part), `released` or `expired` (released by billing at `expires_at`).
    """
    may_read(principal)
    rows = await repository.page(
        db_session,
        principal.organization_id,
        status=status,
        before_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    return page_of(rows, limit=limit, to_item=hold_out, id_of=lambda row: row.id)
