"""Checkout and portal routes: buy credits, manage cards and receipts at the provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from skiff_contracts import new_id
from skiff_kit.db import DbSession
from skiff_kit.idempotency import Idempotency, claim
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors

from skiff_billing.access import may_write
from skiff_billing.checkout import service
from skiff_billing.checkout.schemas import CheckoutIn, CheckoutOut, PortalIn, PortalOut
from skiff_billing.policy import Policy
from skiff_billing.providers.registry import Providers
from skiff_billing.settings import BillingSettings


class CheckoutController(Controller):
    path = "/api/v1/billing"
    tags = ["billing"]

    @post("/checkout", status_code=201, responses=errors(404, 409, 502, 503))
    async def checkout(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        settings: NamedDependency[BillingSettings],
        policy: NamedDependency[Policy],
        providers: NamedDependency[Providers],
        idempotency: Idempotency,
        data: JSONBody[CheckoutIn],
    ) -> CheckoutOut:
        """Start buying credits: a pending purchase and the provider's hosted checkout `url`.

        Credits are granted when the provider's webhook says the payment is paid, never by
        the success page (which may poll `GET /api/v1/billing/purchases/{purchase_id}`). A
        retry with the same `Idempotency-Key` answers the same purchase and checkout URL
        (another body under that key is a 422 `idempotency_key_reused`).
        """
        may_write(principal)
        organization_id, purchase_id = principal.organization_id, new_id("pur")
        remembered = await claim(
            db_session,
            organization_id=organization_id,
            request=idempotency,
            resource_id=purchase_id,
        )
        if remembered is not None:
            return await service.started(db_session, organization_id, remembered.resource_id)
        return await service.start(
            db_session,
            purchase_id=purchase_id,
            organization_id=organization_id,
            data=data,
            providers=providers,
            policy=policy,
            default_provider=settings.default_provider,
            public_url=settings.public_url,
            expires_in=timedelta(minutes=settings.checkout_expires_minutes),
            now=datetime.now(UTC),
        )

    @post("/portal", status_code=200, responses=errors(404, 409, 502, 503))
    async def portal(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        settings: NamedDependency[BillingSettings],
        providers: NamedDependency[Providers],
        data: JSONBody[PortalIn | None] = None,
    ) -> PortalOut:
        """The URL of the provider's customer portal: saved cards, receipts (admins)."""
        may_write(principal, minimum="admin")
        wanted = data or PortalIn()
        provider = service.choose_provider(wanted.provider, providers, settings.default_provider)
        url = await service.portal(
            db_session,
            organization_id=principal.organization_id,
            provider=provider,
            return_url=wanted.return_url or settings.public_url,
            providers=providers,
        )
        return PortalOut(url=url)
