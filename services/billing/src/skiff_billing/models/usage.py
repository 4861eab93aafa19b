"""Daily usage rollups per organization and metric."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from skiff_billing.models.base import Base


class UsageDaily(Base):
    """`value` of `metric` on one UTC `day`; bumped in the transaction that counts it."""

    __tablename__ = "usage_daily"

    organization_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
