"""Webhook endpoint routes: list, create (the secret once), show, change, delete, rotate."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from skiff_contracts import new_id
from skiff_kit.db import DbSession
from skiff_kit.idempotency import Idempotency, claim
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_notification.webhooks import repository, service
from skiff_notification.webhooks.access import may_read, may_write
from skiff_notification.webhooks.config import CurrentWebhookConfig
from skiff_notification.webhooks.presenter import created_out, endpoint_out
from skiff_notification.webhooks.schemas import (
    CreatedEndpoint,
    CreateEndpoint,
    EndpointOut,
    RotatedSecret,
    UpdateEndpoint,
)


class WebhookEndpointsController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @get("/", responses=errors(401, 403))
    async def list_endpoints(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[EndpointOut]:
        """The organization's webhook endpoints, newest first (secrets are never listed)."""
        may_read(principal)
        rows = await repository.endpoints_page(
            db_session, principal.organization_id, before_id=decode_cursor(cursor), limit=limit + 1
        )
        return page_of(rows, limit=limit, to_item=endpoint_out, id_of=lambda row: row.id)

    @post("/", status_code=201, responses=errors(401, 403, 409))
    async def create_endpoint(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        webhook_config: CurrentWebhookConfig,
        idempotency: Idempotency,
        data: JSONBody[CreateEndpoint],
    ) -> CreatedEndpoint:
        """Add an endpoint; the answer shows its signing secret (`whsec_...`) this once.

        A retry with the same `Idempotency-Key` answers the endpoint the first one made.
        """
        may_write(principal)
        org, endpoint_id = principal.organization_id, new_id("wh")
        remembered = await claim(
            db_session, organization_id=org, request=idempotency, resource_id=endpoint_id
        )
        if remembered is not None:
            return created_out(await service.get(db_session, org, remembered.resource_id))
        row = await service.create(
            db_session, org, data, webhook_config.rules, endpoint_id=endpoint_id
        )
        return created_out(row)

    @get("/{endpoint_id:str}", responses=errors(401, 403, 404))
    async def show_endpoint(
        self, principal: CurrentPrincipal, db_session: DbSession, endpoint_id: FromPath[str]
    ) -> EndpointOut:
        """One endpoint, with its status and why it was disabled."""
        may_read(principal)
        return endpoint_out(await service.get(db_session, principal.organization_id, endpoint_id))

    @patch("/{endpoint_id:str}", responses=errors(401, 403, 404))
    async def update_endpoint(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        webhook_config: CurrentWebhookConfig,
        endpoint_id: FromPath[str],
        data: JSONBody[UpdateEndpoint],
    ) -> EndpointOut:
        """Change an endpoint; `enabled: true` re-enables a disabled one."""
        may_write(principal)
        row = await service.get(db_session, principal.organization_id, endpoint_id, lock=True)
        await service.update(db_session, row, data, webhook_config.rules)
        return endpoint_out(row)

    @delete("/{endpoint_id:str}", status_code=204, responses=errors(401, 403, 404))
    async def delete_endpoint(
        self, principal: CurrentPrincipal, db_session: DbSession, endpoint_id: FromPath[str]
    ) -> None:
        """Delete an endpoint with its messages and delivery log."""
        may_write(principal)
        row = await service.get(db_session, principal.organization_id, endpoint_id, lock=True)
        await db_session.delete(row)

    @post("/{endpoint_id:str}/rotate-secret", status_code=200, responses=errors(401, 403, 404))
    async def rotate_secret(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        webhook_config: CurrentWebhookConfig,
        idempotency: Idempotency,
        endpoint_id: FromPath[str],
    ) -> RotatedSecret:
        """A new signing secret; the old one keeps signing beside it for 24 hours.

        A retry with the same `Idempotency-Key` answers the same secret, rotated once.
        """
        may_write(principal)
        row = await service.get(db_session, principal.organization_id, endpoint_id, lock=True)
        remembered = await claim(
            db_session,
            organization_id=principal.organization_id,
            request=idempotency,
            resource_id=endpoint_id,
        )
        if remembered is None:
            service.rotate(row, webhook_config.rules)
        assert row.previous_secret_until is not None
        return RotatedSecret(
            id=row.id, secret=row.secret, previous_secret_expires_at=row.previous_secret_until
        )
