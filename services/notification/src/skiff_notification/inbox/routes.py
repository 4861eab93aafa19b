"""Notification routes: the signed-in user's in-app notifications in the current organization."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import CurrentPrincipal, Principal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, page_of

from skiff_notification.inbox import repository, service
from skiff_notification.inbox.schemas import (
    MarkRequest,
    NotificationOut,
    ReadAllResult,
    UnreadCount,
)
from skiff_notification.models import Notification


def _out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        type=row.type,
        title=row.title,
        body=row.body,
        data=row.data,
        read=row.read_at is not None,
        read_at=row.read_at,
        created_at=row.created_at,
    )


def _user_of(principal: Principal) -> str:
    if principal.user_id is None:
        raise Forbidden("Notifications belong to users; sign in as a user.", code="user_required")
    return principal.user_id


class NotificationsController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/", responses=errors(401, 403))
    async def list_notifications(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        read: FromQuery[bool | None] = None,
        type_: Annotated[str | None, QueryParameter(name="type", max_length=80)] = None,
        # Not the kit's `Limit`: Litestar ignores msgspec.Meta bounds on a query parameter.
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[NotificationOut]:
        """Your notifications, newest first; filter with `read` and `type`."""
        rows = await repository.page(
            db_session,
            organization_id=principal.organization_id,
            user_id=_user_of(principal),
            read=read,
            type_=type_,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(rows, limit=limit, to_item=_out, id_of=lambda row: row.id)

    @get("/unread-count", responses=errors(401, 403))
    async def unread_count(self, principal: CurrentPrincipal, db_session: DbSession) -> UnreadCount:
        """How many of your notifications are unread."""
        count = await repository.unread_count(
            db_session, organization_id=principal.organization_id, user_id=_user_of(principal)
        )
        return UnreadCount(unread=count)

    @patch("/{notification_id:str}", responses=errors(401, 403, 404))
    async def mark(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        notification_id: FromPath[str],
        data: JSONBody[MarkRequest],
    ) -> NotificationOut:
        """Mark one notification read (or unread again)."""
        row = await service.mark_read(
            db_session,
            notification_id,
            organization_id=principal.organization_id,
            user_id=_user_of(principal),
            read=data.read,
        )
        return _out(row)

    @post("/read-all", status_code=200, responses=errors(401, 403))
    async def read_all(self, principal: CurrentPrincipal, db_session: DbSession) -> ReadAllResult:
        """Mark every unread notification read."""
        marked = await repository.mark_all_read(
            db_session,
            organization_id=principal.organization_id,
            user_id=_user_of(principal),
            now=datetime.now(UTC),
        )
        return ReadAllResult(marked=marked)
