"""Purchases routes: the organization's purchases, and one (a success page polls it)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.errors import NotFound
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_billing.access import may_read
from skiff_billing.models import Purchase
from skiff_billing.purchases import repository
from skiff_billing.purchases.schemas import PurchaseOut

Status = Annotated[
    str | None,
    QueryParameter(
        pattern="^(pending|paid|failed|expired|refunded|partially_refunded|disputed)$",
        description="Only purchases in this status.",
    ),
]


def purchase_out(purchase: Purchase) -> PurchaseOut:
    pending = purchase.status == "pending"
    return PurchaseOut(
        id=purchase.id,
        status=purchase.status,  # type: ignore[arg-type]
        kind=purchase.kind,  # type: ignore[arg-type]
        credits=purchase.credits,
        amount=purchase.amount,
        currency=purchase.currency,
        provider=purchase.provider,  # type: ignore[arg-type]
        package_id=purchase.package_id,
        refunded_credits=purchase.refunded_credits,
        checkout_url=purchase.checkout_url if pending else None,
        expires_at=purchase.expires_at,
        failure_reason=purchase.failure_reason,
        created_at=purchase.created_at,
        paid_at=purchase.paid_at,
    )


class PurchasesController(Controller):
    path = "/api/v1/billing/purchases"
    tags = ["billing"]

    @get("/")
    async def list_purchases(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        status: Status = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[PurchaseOut]:
        """The organization's purchases, newest first (checkouts and auto top-ups)."""
        may_read(principal)
        rows = await repository.page(
            db_session,
            principal.organization_id,
            status=status,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(rows, limit=limit, to_item=purchase_out, id_of=lambda row: row.id)

    @get("/{purchase_id:str}")
    async def show(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        purchase_id: Annotated[str, PathParameter(max_length=64)],
    ) -> PurchaseOut:
        """One purchase; polling it shows `paid` once the provider's webhook granted it."""
        may_read(principal)
        found = await repository.of_organization(db_session, principal.organization_id, purchase_id)
        if found is None:
            raise NotFound(f"No purchase {purchase_id}.", code="purchase_not_found")
        return purchase_out(found)
