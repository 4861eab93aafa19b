"""Billing's web app: credits, checkout, purchases, auto top-up, holds, usage, provider
webhooks; its consumers, request/reply responders, hold expiry and the outbox relay."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from skiff_contracts.events.billing import AutoTopupStarted
from skiff_contracts.events.gateway import UsageReported
from skiff_contracts.events.identity import OrganizationCreated
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription

from skiff_billing.checkout.routes import CheckoutController
from skiff_billing.holds.expiry import expiry_lifespan
from skiff_billing.holds.routes import list_holds
from skiff_billing.holds.rpc import HoldResponders
from skiff_billing.ledger import handlers
from skiff_billing.ledger.credit_check import CreditChecks
from skiff_billing.ledger.routes import CreditsController
from skiff_billing.packages.routes import list_packages
from skiff_billing.policy import Policy
from skiff_billing.providers.registry import Providers
from skiff_billing.purchases.routes import PurchasesController
from skiff_billing.settings import BillingSettings
from skiff_billing.topup.charger import charger
from skiff_billing.topup.routes import AutoTopupController
from skiff_billing.usage import handlers as usage_handlers
from skiff_billing.usage.routes import UsageController
from skiff_billing.webhooks.routes import ProviderWebhooksController

AUTOTOPUP_CONSUMER = "billing--autotopup"
USAGE_CONSUMER = "billing--sandbox"


def subscriptions(
    settings: BillingSettings, policy: Policy, providers: Providers
) -> list[Subscription]:
    """Billing's durable consumers: accounts, charges, counts, and its own top-up events."""
    return [
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
            durable=USAGE_CONSUMER,
            handlers={SessionUsage.event_type: (SessionUsage, handlers.session_usage(policy))},
        ),
        Subscription(
            stream="ORCHESTRATOR",
            durable="billing--orchestrator",
            handlers=usage_handlers.orchestrator_handlers(),
        ),
        Subscription(
            stream="GATEWAY",
            durable="billing--gateway",
            handlers={UsageReported.event_type: (UsageReported, usage_handlers.api_calls)},
        ),
        Subscription(
            stream="BILLING",
            durable=AUTOTOPUP_CONSUMER,
            handlers={AutoTopupStarted.event_type: (AutoTopupStarted, charger(providers, policy))},
        ),
    ]


def create(settings: BillingSettings) -> Litestar:
    """Billing as one process: HTTP routes plus its place on the bus."""
    policy = Policy.from_settings(settings)
    providers = Providers.from_settings(settings)
    credit_checks = CreditChecks()
    holds = HoldResponders(policy)
    bus = ServiceBus(
        name="billing",
        nats_url=settings.nats_url,
        stream="BILLING",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=subscriptions(settings, policy, providers),
        responders=[credit_checks.responder(), *holds.responders()],
    )
    return create_app(
        settings,
        route_handlers=[
            CreditsController,
            CheckoutController,
            PurchasesController,
            AutoTopupController,
            UsageController,
            ProviderWebhooksController,
            list_packages,
            list_holds,
        ],
        lifespan=[
            credit_checks.bound,
            holds.bound,
            bus.lifespan,
            expiry_lifespan(policy, settings.hold_sweep_seconds),
        ],
        readiness_checks={"nats": bus.check_ready},
        dependencies={
            "policy": Provide(lambda: policy, sync_to_thread=False, use_cache=True),
            "providers": Provide(lambda: providers, sync_to_thread=False, use_cache=True),
        },
    )
