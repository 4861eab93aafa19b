"""The audit_log table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skiff_identity.models import Base


class AuditEntry(Base):
    """One security-relevant change; never updated, never deleted by the API."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_org", "organization_id", "id"),
        Index("ix_audit_log_actor", "organization_id", "actor_id", "id"),
        # Byte order, where a family of actions is a range (repository.page; migration 0008).
        Index("ix_audit_log_action", "organization_id", text('action COLLATE "C"'), "id"),
        Index("ix_audit_log_target", "organization_id", "target_type", "target_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(String(40))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
