"""Auto top-up: each organization's settings, and every attempt to charge its saved card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from skiff_billing.models.base import Base


class AutoTopup(Base):
    """An organization's auto top-up: below `threshold_credits` available, buy `package_id`."""

    __tablename__ = "auto_topups"

    organization_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold_credits: Mapped[int] = mapped_column(BigInteger)
    package_id: Mapped[str] = mapped_column(String(64))
    max_per_month: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))  # active | disabled_after_failures
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TopupAttempt(Base):
    """One off-session charge; at most one `pending` per organization (a partial unique index)."""

    __tablename__ = "topup_attempts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    purchase_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
