"""Webhook tables: endpoints, one message per (endpoint, event), every attempt, recoveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skiff_notification.models import Base

# Message statuses: waiting for an attempt, done, given up, or parked with its endpoint.
PENDING, SUCCEEDED, FAILED, ENDPOINT_DISABLED = (
    "pending",
    "succeeded",
    "failed",
    "endpoint_disabled",
)
MESSAGE_STATUSES = (PENDING, SUCCEEDED, FAILED, ENDPOINT_DISABLED)
SCHEDULED, MANUAL = "scheduled", "manual"


class WebhookEndpoint(Base):
    """Where an organization wants its events, with the secret(s) that sign them."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_org", "organization_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    event_types: Mapped[list[str]] = mapped_column(JSONB)
    rate_limit_per_second: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret: Mapped[str] = mapped_column(String(80))
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Start of the current run of failed attempts (None after a success).
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warning_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Its limits across every replica, kept by the claim (claims.py): the leases in flight,
    # {message id: [lease end (epoch seconds), the message's attempts when claimed]}, and the
    # rate limit's theoretical arrival time (GCRA).
    leases: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    rate_tat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookMessage(Base):
    """One event for one endpoint: the exact body sent, its status and when to try next.

    The id is the `webhook-id` of every attempt. A claimed message stays `pending` with
    `next_attempt_at` pushed past the lease, so a dispatcher that dies mid-send leaves it due
    again, never lost; its endpoint's `leases` count it meanwhile.
    """

    __tablename__ = "webhook_messages"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_messages_event"),
        Index(
            "ix_webhook_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_messages_endpoint", "endpoint_id", "id"),
        # One status of the endpoint's, newest first (migration 0008): `?status=` reads its page.
        Index("ix_webhook_messages_endpoint_status", "endpoint_id", "status", "id"),
        Index(
            "ix_webhook_messages_endpoint_due",
            "endpoint_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_messages_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    organization_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(120))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The next send was asked for (replay, recover, test): one attempt, no retry schedule.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One try of a message: the answer's status or the error class, timing and excerpt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_message", "message_id", "id"),
        Index("ix_webhook_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_messages.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    trigger: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(20))
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")


class WebhookRecovery(Base):
    """A `recover` request: failed messages of a window made due again, in the background."""

    __tablename__ = "webhook_recoveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    organization_id: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))
    messages: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
