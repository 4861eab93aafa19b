"""The rules of in-app notifications; takes a session, never commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skiff_contracts import new_id
from skiff_contracts.events.notification import NotificationCreated
from skiff_kit.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.inbox import repository
from skiff_notification.models import Notification
from skiff_notification.outbox import OUTBOX

# notifications.title is VARCHAR(200); a title built from user input (a name) may be longer.
TITLE_MAX_LENGTH = 200


def fit_title(title: str) -> str:
    """`title`, cut to TITLE_MAX_LENGTH characters (ending in an ellipsis) when longer."""
    if len(title) <= TITLE_MAX_LENGTH:
        return title
    return title[: TITLE_MAX_LENGTH - 1].rstrip() + "\u2026"


async def notify(
    session: AsyncSession,
    *,
    organization_id: str,
    user_id: str,
    type_: str,
    title: str,
    body: str,
    source_event_id: str,
    data: dict[str, Any] | None = None,
) -> bool:
    """Store the notification of one event, once; False when that event already has one."""
    now = datetime.now(UTC)
    title = fit_title(title)
    notification = Notification(
        id=new_id("ntf"),
        organization_id=organization_id,
        user_id=user_id,
        type=type_,
        title=title,
        body=body,
        data=data or {},
        source_event_id=source_event_id,
        read_at=None,
        created_at=now,
    )
    if not await repository.insert_once(session, notification):
        return False
    await OUTBOX.record(
        session,
        NotificationCreated(
            notification_id=notification.id,
            organization_id=organization_id,
            user_id=user_id,
            type=type_,
            title=title,
            created_at=now,
        ),
        subject=notification.id,
        organization_id=organization_id,
    )
    return True


async def mark_read(
    session: AsyncSession, notification_id: str, *, organization_id: str, user_id: str, read: bool
) -> Notification:
    found = await repository.one(
        session, notification_id, organization_id=organization_id, user_id=user_id
    )
    if found is None:
        raise NotFound("No such notification.", code="notification_not_found")
    if read and found.read_at is None:
        found.read_at = datetime.now(UTC)
    elif not read:
        found.read_at = None
    return found
