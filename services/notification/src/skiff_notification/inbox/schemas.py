"""HTTP bodies of the notification routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class NotificationOut(msgspec.Struct):
    id: str
    type: str
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    read_at: datetime | None
    created_at: datetime


class MarkRequest(msgspec.Struct, forbid_unknown_fields=True):
    read: bool = True


class UnreadCount(msgspec.Struct):
    unread: int


class ReadAllResult(msgspec.Struct):
    marked: int
