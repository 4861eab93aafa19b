"""Two-phase holds: credits reserved, then captured (all or part) or released."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from skiff_billing.models.base import Base


class Hold(Base):
    """Credits set aside for one purpose (`reference`); `reserved` of the account sums the
    amounts of its pending holds."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("organization_id", "reference"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))  # pending | captured | released | expired
    reference: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
