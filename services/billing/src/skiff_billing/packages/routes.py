"""GET /api/v1/billing/packages: the public credit packages."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from skiff_kit.internal_token import CurrentPrincipal

from skiff_billing.access import may_read
from skiff_billing.packages.schemas import PackageList, PackageOut, Price, ProviderPrices
from skiff_billing.policy import Policy
from skiff_billing.providers.registry import Providers


@get("/api/v1/billing/packages", tags=["billing"])
async def list_packages(
    principal: CurrentPrincipal,
    policy: NamedDependency[Policy],
    providers: NamedDependency[Providers],
) -> PackageList:
    """The credit packages on sale, with their price at each configured provider.

    Any other amount of at least the minimum purchase (1,000 credits by default) can be
    bought with `credits` instead of `package_id` at checkout.
    """
    may_read(principal)
    data = []
    for package in policy.packages:
        price = Price(amount=package.price, currency=policy.currency)
        data.append(
            PackageOut(
                id=package.id,
                name=package.name or f"{package.credits:,} credits",
                credits=package.credits,
                price=price,
                provider_prices=ProviderPrices(
                    stripe=price if providers.stripe else None,
                    polar=price if providers.polar else None,
                ),
            )
        )
    return PackageList(data=data, next_cursor=None)
