"""Notification's tables: in-app notifications (schema `notification`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff_kit.idempotency import idempotency_table
from skiff_messaging.tables import messaging_tables
from sqlalchemy import DateTime, Index, MetaData, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


MESSAGING = messaging_tables(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)


class Notification(Base):
    """Something a user is told in the app; one event makes at most one per recipient."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient", "organization_id", "user_id", "id"),
        # The unread ones alone (migration 0007): the bell's count reads only them.
        Index(
            "ix_notifications_unread",
            "organization_id",
            "user_id",
            "id",
            postgresql_where=text("read_at IS NULL"),
        ),
        # One type of the user's, newest first, and its unread ones (migration 0008): `?type=`
        # reads its page, with `?read=false` too.
        Index("ix_notifications_type", "organization_id", "user_id", "type", "id"),
        Index(
            "ix_notifications_unread_type",
            "organization_id",
            "user_id",
            "type",
            "id",
            postgresql_where=text("read_at IS NULL"),
        ),
        UniqueConstraint("source_event_id", "user_id", name="uq_notifications_source_user"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    source_event_id: Mapped[str | None] = mapped_column(String(120))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
