"""Purchases of credits, the organizations' customers at each provider, and provider events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from skiff_billing.models.base import Base


class Purchase(Base):
    """Credits bought (or being bought) through a provider: a checkout or an auto top-up.

    The grant is keyed by the purchase (ledger reference `purchase:<id>`), so whichever
    provider event reports the payment first grants it, and only once.
    """

    __tablename__ = "purchases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40), index=True)
    # pending | paid | failed | expired | refunded | partially_refunded | disputed
    status: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))  # checkout | auto_topup
    package_id: Mapped[str | None] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)  # in the currency's minor unit (cents)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(16))  # stripe | polar
    provider_checkout_id: Mapped[str | None] = mapped_column(String(255))
    provider_payment_id: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(String(2048))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    disputed_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProviderCustomer(Base):
    """The organization's customer at a provider (for saved cards, the portal, top-ups)."""

    __tablename__ = "provider_customers"

    organization_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProviderEvent(Base):
    """A webhook event, recorded in the same transaction as its effect.

    `parked`: about a payment billing does not know yet (a refund before its completion);
    applied, in arrival order, by the transaction that records that payment.
    """

    __tablename__ = "provider_events"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # applied | parked | ignored
    waiting_for: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
