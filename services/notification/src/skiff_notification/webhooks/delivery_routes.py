"""Delivery routes: the log of an endpoint's messages, replay, recover and test."""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor

from skiff_notification.webhooks import deliveries, repository, service
from skiff_notification.webhooks.access import may_read, may_write
from skiff_notification.webhooks.config import CurrentWebhookConfig
from skiff_notification.webhooks.presenter import delivery_out
from skiff_notification.webhooks.schemas import DeliveryOut, RecoverRequest, RecoveryOut

DeliveryStatus = Annotated[
    str | None,
    QueryParameter(
        pattern="^(pending|succeeded|failed|endpoint_disabled)$",
        description="Only messages in this status.",
    ),
]


class WebhookDeliveriesController(Controller):
    path = "/api/v1/webhooks/{endpoint_id:str}"
    tags = ["webhooks"]

    @get("/deliveries", responses=errors(401, 403, 404))
    async def list_deliveries(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        endpoint_id: FromPath[str],
        status: DeliveryStatus = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[DeliveryOut]:
        """The endpoint's messages, newest first, each with every attempt and its next one."""
        may_read(principal)
        endpoint = await service.get(db_session, principal.organization_id, endpoint_id)
        rows = await repository.messages_page(
            db_session, endpoint.id, status=status, before_id=decode_cursor(cursor), limit=limit + 1
        )
        shown = rows[:limit]
        attempts = await repository.attempts_of(db_session, [row.id for row in shown])
        return Page(
            data=[delivery_out(row, attempts[row.id]) for row in shown],
            next_cursor=encode_cursor(shown[-1].id) if len(rows) > limit else None,
        )

    @post(
        "/deliveries/{delivery_id:str}/replay",
        status_code=202,
        responses=errors(401, 403, 404, 409),
    )
    async def replay_delivery(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        endpoint_id: FromPath[str],
        delivery_id: FromPath[str],
    ) -> DeliveryOut:
        """Send this message again now (one attempt, logged as `manual`)."""
        may_write(principal)
        endpoint = await service.get(db_session, principal.organization_id, endpoint_id)
        message = await deliveries.replay(db_session, endpoint, delivery_id)
        attempts = await repository.attempts_of(db_session, [message.id])
        return delivery_out(message, attempts[message.id])

    @post("/recover", status_code=202, responses=errors(401, 403, 404, 409))
    async def recover_deliveries(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        endpoint_id: FromPath[str],
        data: JSONBody[RecoverRequest],
    ) -> RecoveryOut:
        """Send again every failed (or parked) message of `[since, until)`, at most 14 days."""
        may_write(principal)
        endpoint = await service.get(db_session, principal.organization_id, endpoint_id)
        recovery = await deliveries.recover(db_session, endpoint, data.since, data.until)
        return RecoveryOut(
            id=recovery.id,
            endpoint_id=recovery.endpoint_id,
            since=recovery.since,
            until=recovery.until,
            status=cast(Any, recovery.status),
            messages=recovery.messages,
            created_at=recovery.created_at,
        )

    @post("/test", status_code=202, responses=errors(401, 403, 404, 409))
    async def send_test(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        webhook_config: CurrentWebhookConfig,
        endpoint_id: FromPath[str],
    ) -> DeliveryOut:
        """Send a `skiff.ping` message through the same pipeline (and address guard)."""
        may_write(principal)
        endpoint = await service.get(db_session, principal.organization_id, endpoint_id)
        message = await deliveries.ping(
            db_session, endpoint, max_bytes=webhook_config.dispatch.max_bytes
        )
        return delivery_out(message, [])
