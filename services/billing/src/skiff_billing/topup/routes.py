"""Auto top-up routes: read and change the organization's settings."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors

from skiff_billing.access import may_read, may_write
from skiff_billing.policy import Policy
from skiff_billing.providers.base import ProviderError, as_http
from skiff_billing.providers.registry import Providers
from skiff_billing.purchases import service as purchases
from skiff_billing.topup import settings_service
from skiff_billing.topup.schemas import AutoTopupIn, AutoTopupOut


class AutoTopupController(Controller):
    path = "/api/v1/billing/auto-topup"
    tags = ["billing"]

    @get("/")
    async def read(
        self, principal: CurrentPrincipal, db_session: DbSession, policy: NamedDependency[Policy]
    ) -> AutoTopupOut:
        """The organization's auto top-up: threshold, package, monthly cap, card and status."""
        may_read(principal)
        return await settings_service.read(db_session, principal.organization_id, policy)

    @put("/", responses=errors(409, 502, 503))
    async def change(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        policy: NamedDependency[Policy],
        providers: NamedDependency[Providers],
        data: JSONBody[AutoTopupIn],
    ) -> AutoTopupOut:
        """Turn auto top-up on or off and set its threshold, package and monthly cap (admins).

        Enabling needs a card saved by a Stripe checkout (`save_card: true`); it is charged
        off-session when a debit takes the available credits below the threshold, at most
        once per cooldown and `max_per_month` times a month. Enabling again after three
        failures in a row makes it active again.
        """
        may_write(principal, minimum="admin")
        card = None
        if data.enabled:
            stripe = providers.require_stripe()
            customer = await purchases.customer_of(db_session, principal.organization_id, "stripe")
            try:
                cards = await stripe.cards(customer) if customer else []
            except ProviderError as error:
                raise as_http(error, "stripe") from error
            if not cards:
                raise settings_service.no_saved_card()
            card = cards[0]
        return await settings_service.change(
            db_session,
            principal.organization_id,
            data,
            card=card,
            policy=policy,
            now=datetime.now(UTC),
        )
