"""Runs the webhook dispatcher while the app does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from skiff_kit.app import Lifespan

from skiff_notification.notices.telling import Teller
from skiff_notification.settings import NotificationSettings
from skiff_notification.webhooks.clock import Clock
from skiff_notification.webhooks.config import WebhookConfig
from skiff_notification.webhooks.dispatcher import Dispatcher
from skiff_notification.webhooks.network import Clients, Resolver, system_resolver
from skiff_notification.webhooks.notices import Notifier


def dispatcher_lifespan(
    settings: NotificationSettings,
    config: WebhookConfig,
    teller: Teller,
    *,
    clock: Clock | None = None,
    resolver: Resolver = system_resolver,
) -> Lifespan:
    """A Litestar lifespan running the dispatcher; `app.state.webhook_dispatcher` while it runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        factory = app.state.get("db_session_factory")
        dsn = _libpq(settings.database_url or "")
        if factory is None or dsn is None:
            yield
            return
        clients = Clients(
            config.policy,
            version=settings.version,
            timeout_seconds=settings.webhook_timeout_seconds,
            connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
            per_endpoint=settings.webhook_endpoint_concurrency,
            resolver=resolver,
        )
        dispatcher = Dispatcher(
            factory,
            clients,
            config=config.dispatch,
            notifier=Notifier(teller),
            dsn=dsn,
            schema=settings.database_schema or "notification",
            clock=clock,
        )
        app.state.webhook_dispatcher = dispatcher
        task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await clients.aclose()
            app.state.webhook_dispatcher = None

    return lifespan


def _libpq(database_url: str) -> str | None:
    if not database_url:
        return None
    scheme, rest = database_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"
