"""The api_keys and api_key_usage tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from skiff_identity.models import Base


class ApiKey(Base):
    """One API key of an organization; only the hash of its secret is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_org", "organization_id", "id"),
        Index("ix_api_keys_grace_secret_hash", "grace_secret_hash"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    grace_secret_hash: Mapped[str | None] = mapped_column(String(64))
    grace_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKeyUsage(Base):
    """Requests made with a key on one day (UTC), by status class; summed from the gateway."""

    __tablename__ = "api_key_usage"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status_class: Mapped[str] = mapped_column(String(3), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
