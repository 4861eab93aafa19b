"""Credit accounts and their ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from skiff_billing.models.base import Base


class Account(Base):
    """One per organization; `balance` is the sum of its ledger entries, `reserved` of its
    pending holds."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40), unique=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    last_topped_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when `billing.credits.low` went out; cleared once available is back above the mark.
    low_credit_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def available(self) -> int:
        """What may be spent or reserved now: never below zero."""
        return max(self.balance - self.reserved, 0)


class LedgerEntry(Base):
    """Every change of a balance; `reference` makes a business event count once."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # The lists read these in order (migration 0010): newest or oldest first, by type.
        Index("ix_ledger_entries_created", "organization_id", "created_at", "id"),
        Index("ix_ledger_entries_type_created", "organization_id", "type", "created_at", "id"),
        UniqueConstraint("organization_id", "reference"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    organization_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
