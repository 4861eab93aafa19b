"""Notification's web app: in-app notification routes and the consumers that create them."""

from __future__ import annotations

from litestar import Litestar
from skiff_contracts.events.identity import UserRegistered
from skiff_kit.app import create_app
from skiff_messaging.service_bus import ServiceBus, Subscription

from skiff_notification.email.handlers import email_handlers
from skiff_notification.email.lifespan import email_lifespan
from skiff_notification.inbox import handlers
from skiff_notification.inbox.routes import NotificationsController
from skiff_notification.settings import NotificationSettings


def create(settings: NotificationSettings) -> Litestar:
    """Notification as one process: HTTP routes plus its place on the bus."""
    bus = ServiceBus(
        name="notification",
        nats_url=settings.nats_url,
        stream="NOTIFICATION",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=[
            Subscription(
                stream="IDENTITY",
                durable="notification--identity",
                handlers={
                    UserRegistered.event_type: (UserRegistered, handlers.user_registered),
                    **email_handlers(settings.public_url),
                },
            )
        ],
    )
    return create_app(
        settings,
        route_handlers=[NotificationsController],
        lifespan=[bus.lifespan, email_lifespan(settings)],
        readiness_checks={"nats": bus.check_ready},
    )
