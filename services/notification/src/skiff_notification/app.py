"""Notification's web app: notifications, preferences, webhooks, the event catalog, consumers."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus

from skiff_notification.directory.lookup import OwnerLookup
from skiff_notification.email.lifespan import email_lifespan
from skiff_notification.inbox.routes import NotificationsController
from skiff_notification.notices.telling import Teller
from skiff_notification.preferences.routes import PreferencesController, unsubscribe
from skiff_notification.settings import NotificationSettings
from skiff_notification.subscriptions import subscriptions
from skiff_notification.webhooks.catalog import list_event_types
from skiff_notification.webhooks.clock import Clock
from skiff_notification.webhooks.config import webhook_config
from skiff_notification.webhooks.delivery_routes import WebhookDeliveriesController
from skiff_notification.webhooks.lifespan import dispatcher_lifespan
from skiff_notification.webhooks.network import Resolver, system_resolver
from skiff_notification.webhooks.routes import WebhookEndpointsController


def create(
    settings: NotificationSettings,
    *,
    clock: Clock | None = None,
    resolver: Resolver = system_resolver,
) -> Litestar:
    """Notification as one process: HTTP routes, its consumers and the webhook dispatcher.

    `clock` and `resolver` are for tests: the retry schedule without sleeping, and the address
    guard fed forbidden addresses without any real lookup.
    """
    config = webhook_config(settings)
    # Owners the directory does not know are asked of identity, over the bus's connection.
    owners = OwnerLookup(lambda: bus.nats, timeout=settings.owner_lookup_timeout_seconds)
    teller = Teller(public_url=settings.public_url, owners=owners)
    bus = ServiceBus(
        name="notification",
        nats_url=settings.nats_url,
        stream="NOTIFICATION",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=subscriptions(
            public_url=settings.public_url,
            teller=teller,
            max_payload_bytes=settings.webhook_max_payload_bytes,
        ),
    )
    return create_app(
        settings,
        route_handlers=[
            NotificationsController,
            PreferencesController,
            unsubscribe,
            WebhookEndpointsController,
            WebhookDeliveriesController,
            list_event_types,
        ],
        lifespan=[
            bus.lifespan,
            email_lifespan(settings),
            dispatcher_lifespan(settings, config, teller, clock=clock, resolver=resolver),
        ],
        readiness_checks={"nats": bus.check_ready},
        dependencies={
            "webhook_config": Provide(lambda: config, sync_to_thread=False, use_cache=True)
        },
    )
