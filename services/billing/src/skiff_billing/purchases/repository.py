"""Every query of purchases and of the provider customers."""

from __future__ import annotations

from skiff_kit.pagination import newest_first
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import ProviderCustomer, Purchase


async def locked(session: AsyncSession, purchase_id: str) -> Purchase | None:
    """The purchase, row-locked until the transaction ends."""
    return await session.scalar(
        select(Purchase)
        .where(Purchase.id == purchase_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def id_by_payment(session: AsyncSession, provider: str, payment_id: str) -> str | None:
    """The purchase a provider's payment (PaymentIntent, order) paid, if known."""
    return await session.scalar(
        select(Purchase.id).where(
            Purchase.provider == provider, Purchase.provider_payment_id == payment_id
        )
    )


async def id_by_checkout(session: AsyncSession, provider: str, checkout_id: str) -> str | None:
    """The purchase of a provider's checkout, if known."""
    return await session.scalar(
        select(Purchase.id).where(
            Purchase.provider == provider, Purchase.provider_checkout_id == checkout_id
        )
    )


async def of_organization(
    session: AsyncSession, organization_id: str, purchase_id: str
) -> Purchase | None:
    return await session.scalar(
        select(Purchase).where(
            Purchase.id == purchase_id, Purchase.organization_id == organization_id
        )
    )


async def page(
    session: AsyncSession,
    organization_id: str,
    *,
    status: str | None,
    before_id: str | None,
    limit: int,
) -> list[Purchase]:
    """Newest first; `before_id` is the cursor."""
    query = select(Purchase).where(Purchase.organization_id == organization_id)
    if status is not None:
        query = query.where(Purchase.status == status)
    return list(await session.scalars(newest_first(query, Purchase.id, before_id, limit)))


async def customer_id(session: AsyncSession, organization_id: str, provider: str) -> str | None:
    return await session.scalar(
        select(ProviderCustomer.customer_id).where(
            ProviderCustomer.organization_id == organization_id,
            ProviderCustomer.provider == provider,
        )
    )


async def keep_customer(
    session: AsyncSession, organization_id: str, provider: str, created: str
) -> str:
    """Store the organization's customer once; the one stored first wins (returned)."""
    await session.execute(
        insert(ProviderCustomer)
        .values(organization_id=organization_id, provider=provider, customer_id=created)
        .on_conflict_do_nothing(index_elements=["organization_id", "provider"])
    )
    kept = await customer_id(session, organization_id, provider)
    assert kept is not None
    return kept


async def of_any(session: AsyncSession, purchase_id: str) -> Purchase | None:
    """The purchase whatever its organization (for provider events, not for callers)."""
    return await session.get(Purchase, purchase_id)


def add(session: AsyncSession, purchase: Purchase) -> None:
    session.add(purchase)
