"""Billing's web app: credits routes, the ledger's consumers, credit checks, the outbox relay."""

from __future__ import annotations

from litestar import Litestar
from skiff_contracts.events.identity import OrganizationCreated
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription

from skiff_billing.ledger import handlers
from skiff_billing.ledger.credit_check import CreditChecks
from skiff_billing.ledger.routes import CreditsController
from skiff_billing.settings import BillingSettings


def create(settings: BillingSettings) -> Litestar:
    """Billing as one process: HTTP routes plus its place on the bus."""
    credit_checks = CreditChecks()
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
            ),
            Subscription(
                stream="SANDBOX",
                durable="billing--sandbox",
                handlers={SessionUsage.event_type: (SessionUsage, handlers.session_usage)},
            ),
        ],
        responders=[credit_checks.responder()],
    )
    return create_app(
        settings,
        route_handlers=[CreditsController],
        lifespan=[credit_checks.bound, bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
    )
