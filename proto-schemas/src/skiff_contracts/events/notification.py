"""Events published by notification (`notification.>` on the NOTIFICATION stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from skiff_contracts.envelope import EventPayload


class NotificationCreated(EventPayload, frozen=True, kw_only=True):
    """An in-app notification was stored for a user."""

    event_type: ClassVar[str] = "notification.notification.created"
    description: ClassVar[str] = "An in-app notification was stored for a user."

    notification_id: str
    organization_id: str
    user_id: str
    type: str
    title: str
    created_at: datetime


EVENTS = (NotificationCreated,)
