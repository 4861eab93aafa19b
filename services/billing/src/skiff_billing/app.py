"""Billing's web app: credits routes, the ledger's consumers and the outbox relay."""

from __future__ import annotations

from litestar import Litestar
from skiff_contracts.events.identity import OrganizationCreated
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription

from skiff_billing.ledger import handlers
from skiff_billing.ledger.routes import CreditsController
from skiff_billing.settings import BillingSettings


def create(settings: BillingSettings) -> Litestar:
    """Billing as one process: HTTP routes plus its place on the bus."""
    bus = ServiceBus(
        name="billing",
        nats_url=settings.nats_url,
        stream="BILLING",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=[
            Subscription(
                stream="IDENTITY",
                durable="billing--identity",
                handlers={
                    OrganizationCreated.event_type: (
                        OrganizationCreated,
                        handlers.organization_created(settings.signup_bonus_credits),
                    )
                },
            )
        ],
    )
    return create_app(
        settings,
        route_handlers=[CreditsController],
        lifespan=[bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
    )
