"""Starting a checkout and opening a portal. Provider calls happen before the writes; the
purchase row and its checkout are recorded in the caller's transaction. Never commits.

The purchase id is the caller's (it records it with the client's Idempotency-Key first), and
the purchase row keeps the checkout's URL and expiry, so a retry's answer is rebuilt from it.

Credits are never granted here: only the provider's webhook grants (webhooks/).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from skiff_kit.errors import Conflict, ValidationFailed
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.checkout.schemas import CheckoutIn, CheckoutOut
from skiff_billing.ledger import service as ledger
from skiff_billing.models import Purchase
from skiff_billing.policy import Policy
from skiff_billing.providers.base import (
    CheckoutRequest,
    ProviderError,
    ProviderRefused,
    as_http,
)
from skiff_billing.providers.registry import Providers
from skiff_billing.purchases import service as purchases
from skiff_billing.topup import repository as topups


def _field(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field} {message}", details={"fields": [{"field": field, "message": message}]}
    )


def choose_provider(wanted: str | None, providers: Providers, default: str) -> str:
    """The provider asked for, else the default, else whichever is configured."""
    if wanted is not None:
        return wanted
    if default == "polar" and providers.polar is None and providers.stripe is not None:
        return "stripe"
    if default == "stripe" and providers.stripe is None and providers.polar is not None:
        return "polar"
    return default


def what_to_buy(data: CheckoutIn, policy: Policy) -> tuple[str | None, int, int, str]:
    """(package id, credits, amount in cents, name) of a checkout request, or 400."""
    if (data.package_id is None) == (data.credits is None):
        raise _field("package_id", "give either package_id or credits, not both or neither")
    if data.package_id is not None:
        package = policy.package(data.package_id)
        if package is None:
            raise _field("package_id", "is not a package on sale")
        name = package.name or f"{package.credits:,} credits"
        return package.id, package.credits, package.price, f"Skiff: {name}"
    credits = data.credits or 0
    if not policy.min_purchase_credits <= credits <= policy.max_purchase_credits:
        raise _field(
            "credits",
            f"must be between {policy.min_purchase_credits} and {policy.max_purchase_credits}",
        )
    return None, credits, credits, f"Skiff: {credits:,} credits"  # 1 credit = 1 cent


async def start(
    session: AsyncSession,
    *,
    purchase_id: str,
    organization_id: str,
    data: CheckoutIn,
    providers: Providers,
    policy: Policy,
    default_provider: str,
    public_url: str,
    expires_in: timedelta,
    now: datetime,
) -> CheckoutOut:
    """A pending purchase and its hosted checkout; 404 without an account, 502/503 for the
    provider."""
    package_id, credits, amount, name = what_to_buy(data, policy)
    provider = choose_provider(data.provider, providers, default_provider)
    await ledger.account(session, organization_id)
    success = data.success_url or f"{public_url.rstrip('/')}/?purchase_id={purchase_id}"
    request = CheckoutRequest(
        purchase_id=purchase_id,
        organization_id=organization_id,
        customer_id=None,
        credits=credits,
        amount=amount,
        currency=policy.currency,
        name=name,
        success_url=success,
        cancel_url=data.cancel_url or success,
        expires_at=now + expires_in,
    )
    try:
        if provider == "stripe":
            stripe = providers.require_stripe()
            config = await topups.config(session, organization_id)
            customer = await purchases.customer_of(session, organization_id, "stripe")
            if customer is None:
                created = await stripe.create_customer(organization_id)
                customer = await purchases.keep_customer(
                    session, organization_id, "stripe", created
                )
            save = data.save_card or bool(config and config.enabled)
            created_checkout = await stripe.create_checkout(
                replace(request, customer_id=customer, save_card=save)
            )
        else:
            created_checkout = await providers.require_polar().create_checkout(request)
    except ProviderError as error:
        raise as_http(error, provider) from error
    purchase = purchases.new(
        purchase_id=purchase_id,
        organization_id=organization_id,
        kind="checkout",
        provider=provider,
        package_id=package_id,
        credits=credits,
        amount=amount,
        currency=policy.currency,
        now=now,
    )
    purchase.provider_checkout_id = created_checkout.checkout_id
    purchase.checkout_url = created_checkout.url
    purchase.expires_at = created_checkout.expires_at
    purchases.add(session, purchase)
    await session.flush()
    return answer_of(purchase)


async def started(session: AsyncSession, organization_id: str, purchase_id: str) -> CheckoutOut:
    """The answer of a checkout started before (a retry with its Idempotency-Key), whatever
    became of the purchase since: the same purchase id, URL and expiry."""
    purchase = await purchases.of_organization(session, organization_id, purchase_id)
    if purchase is None or purchase.checkout_url is None:
        # Only a checkout records a key with its purchase, always with its URL.
        raise Conflict(
            "This Idempotency-Key was used, but its checkout is no longer available.",
            code="idempotency_key_used",
        )
    return answer_of(purchase)


def answer_of(purchase: Purchase) -> CheckoutOut:
    """A checkout's answer, from its purchase row."""
    assert purchase.checkout_url is not None
    return CheckoutOut(
        purchase_id=purchase.id,
        url=purchase.checkout_url,
        provider="stripe" if purchase.provider == "stripe" else "polar",
        expires_at=purchase.expires_at,
    )


async def portal(
    session: AsyncSession,
    *,
    organization_id: str,
    provider: str,
    return_url: str,
    providers: Providers,
) -> str:
    """The URL of the provider's customer portal for the organization (saved cards, receipts)."""
    await ledger.account(session, organization_id)
    try:
        if provider == "stripe":
            stripe = providers.require_stripe()
            customer = await purchases.customer_of(session, organization_id, "stripe")
            if customer is None:
                created = await stripe.create_customer(organization_id)
                customer = await purchases.keep_customer(
                    session, organization_id, "stripe", created
                )
            return await stripe.portal(customer, return_url)
        return await providers.require_polar().portal(organization_id, return_url)
    except ProviderRefused as refused:
        if refused.code == "no_customer":
            raise Conflict(
                "This organization has bought nothing through Polar yet: there is no portal.",
                code="no_customer",
            ) from refused
        raise as_http(refused, provider) from refused
    except ProviderError as error:
        raise as_http(error, provider) from error
