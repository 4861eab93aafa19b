"""Notification routes: the signed-in user's in-app notifications in the current organization."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import Principal
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of
from sqlalchemy.ext.asyncio import AsyncSession

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

    @get("/")
    async def list_notifications(
        self,
        principal: Principal,
        db_session: AsyncSession,
        read: bool | None = None,
        type_: str | None = Parameter(query="type", default=None, max_length=80),
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
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

    @get("/unread-count")
    async def unread_count(self, principal: Principal, db_session: AsyncSession) -> UnreadCount:
        """How many of your notifications are unread."""
        count = await repository.unread_count(
            db_session, organization_id=principal.organization_id, user_id=_user_of(principal)
        )
        return UnreadCount(unread=count)

    @patch("/{notification_id:str}")
    async def mark(
        self,
        principal: Principal,
        db_session: AsyncSession,
        notification_id: str,
        data: MarkRequest,
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

    @post("/read-all", status_code=200)
    async def read_all(self, principal: Principal, db_session: AsyncSession) -> ReadAllResult:
        """Mark every unread notification read."""
        marked = await repository.mark_all_read(
            db_session,
            organization_id=principal.organization_id,
            user_id=_user_of(principal),
            now=datetime.now(UTC),
        )
        return ReadAllResult(marked=marked)
