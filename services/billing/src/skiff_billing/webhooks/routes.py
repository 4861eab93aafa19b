"""POST /webhooks/stripe and /webhooks/polar: anonymous through the gateway, signed by the
provider. The raw body is verified as received, the event applied in this request's
transaction, and only then answered 200; a failure answers 5xx, so the provider retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import RawBody
from skiff_kit.db import DbSession
from skiff_kit.internal_token import GatewayCaller
from skiff_kit.openapi_errors import errors

from skiff_billing.policy import Policy
from skiff_billing.providers.registry import Providers, not_configured
from skiff_billing.webhooks import service, verify
from skiff_billing.webhooks.polar_handlers import polar_apply
from skiff_billing.webhooks.stripe_handlers import stripe_apply


class WebhookAck(msgspec.Struct):
    received: bool
    status: Literal["applied", "parked", "ignored", "duplicate"]


ERRORS = errors(400, 401, 503)


class ProviderWebhooksController(Controller):
    path = "/webhooks"
    tags = ["billing"]

    @post("/stripe", status_code=200, responses=ERRORS)
    async def stripe(
        self,
        request: Request[Any, Any, Any],
        caller: GatewayCaller,
        db_session: DbSession,
        policy: NamedDependency[Policy],
        providers: NamedDependency[Providers],
        body: RawBody,
    ) -> WebhookAck:
        """Stripe's events, verified with `stripe.Webhook.construct_event`, each applied once.

        400 `invalid_webhook` for a bad or stale signature or body (nothing is changed);
        a duplicate delivery answers 200 `duplicate`.
        """
        secret = providers.stripe_webhook_secret
        if not secret:
            raise not_configured("stripe")
        event = verify.stripe_event(
            body,
            request.headers.get("stripe-signature"),
            secret,
            providers.webhook_tolerance_seconds,
        )
        status = await service.receive(
            db_session,
            provider="stripe",
            event_id=event.id,
            event_type=event.type,
            body=body,
            apply=stripe_apply(policy),
            now=datetime.now(UTC),
        )
        return WebhookAck(received=True, status=status)  # type: ignore[arg-type]

    @post("/polar", status_code=200, responses=ERRORS)
    async def polar(
        self,
        request: Request[Any, Any, Any],
        caller: GatewayCaller,
        db_session: DbSession,
        policy: NamedDependency[Policy],
        providers: NamedDependency[Providers],
        body: RawBody,
    ) -> WebhookAck:
        """Polar's events (Standard Webhooks, the secret in its current or legacy format),
        each applied once; the `webhook-id` header is the event's id."""
        secret = providers.polar_webhook_secret
        if not secret:
            raise not_configured("polar")
        headers = {name.lower(): value for name, value in request.headers.items()}
        event_id, event = verify.polar_event(
            body, headers, secret, providers.webhook_tolerance_seconds
        )
        status = await service.receive(
            db_session,
            provider="polar",
            event_id=event_id,
            event_type=event.type,
            body=body,
            apply=polar_apply(policy),
            now=datetime.now(UTC),
        )
        return WebhookAck(received=True, status=status)  # type: ignore[arg-type]
