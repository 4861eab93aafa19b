"""Reading and changing an organization's auto top-up. Never commits."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.errors import Conflict, ValidationFailed
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import AutoTopup
from skiff_billing.policy import Policy
from skiff_billing.providers.base import Card
from skiff_billing.topup import repository
from skiff_billing.topup.schemas import AttemptOut, AutoTopupIn, AutoTopupOut, CardOut
from skiff_billing.topup.service import ACTIVE

DEFAULT_THRESHOLD = 100


def no_saved_card() -> Conflict:
    return Conflict(
        "Auto top-up charges a saved card: buy credits once through Stripe with "
        "`save_card: true`, then enable it.",
        code="no_saved_card",
    )


def _defaults(organization_id: str, policy: Policy) -> AutoTopup:
    return AutoTopup(
        organization_id=organization_id,
        enabled=False,
        threshold_credits=DEFAULT_THRESHOLD,
        package_id=policy.packages[0].id if policy.packages else "",
        max_per_month=policy.autotopup_default_max_per_month,
        status=ACTIVE,
        consecutive_failures=0,
    )


async def read(session: AsyncSession, organization_id: str, policy: Policy) -> AutoTopupOut:
    config = await repository.config(session, organization_id) or _defaults(organization_id, policy)
    return await _out(session, config)


async def change(
    session: AsyncSession,
    organization_id: str,
    change: AutoTopupIn,
    *,
    card: Card | None,
    policy: Policy,
    now: datetime,
) -> AutoTopupOut:
    """Apply a PUT; `card` is the saved card to charge (required to enable)."""
    config = await repository.locked_config(session, organization_id)
    if config is None:
        config = _defaults(organization_id, policy)
        session.add(config)
    package_id = change.package_id or config.package_id
    if policy.package(package_id) is None:
        raise ValidationFailed(
            f"No credit package {package_id!r}.",
            details={"fields": [{"field": "package_id", "message": "is not a package on sale"}]},
        )
    if change.enabled and card is None:
        raise no_saved_card()
    config.package_id = package_id
    if change.threshold_credits is not None:
        config.threshold_credits = change.threshold_credits
    if change.max_per_month is not None:
        config.max_per_month = change.max_per_month
    if card is not None:
        config.payment_method_id, config.card_brand, config.card_last4 = (
            card.id,
            card.brand,
            card.last4,
        )
    if (change.enabled and not config.enabled) or (config.status != ACTIVE and change.enabled):
        config.status, config.consecutive_failures = ACTIVE, 0
    config.enabled = change.enabled
    config.updated_at = now
    await session.flush()
    return await _out(session, config)


async def _out(session: AsyncSession, config: AutoTopup) -> AutoTopupOut:
    last = await repository.last_attempt(session, config.organization_id)
    card = None
    if config.card_brand and config.card_last4:
        card = CardOut(brand=config.card_brand, last4=config.card_last4)
    return AutoTopupOut(
        enabled=config.enabled,
        threshold_credits=config.threshold_credits,
        package_id=config.package_id,
        max_per_month=config.max_per_month,
        payment_method=card,
        status="active" if config.status == ACTIVE else "disabled_after_failures",
        consecutive_failures=config.consecutive_failures,
        last_attempt=None
        if last is None
        else AttemptOut(
            id=last.id,
            status=last.status,  # type: ignore[arg-type]
            purchase_id=last.purchase_id,
            failure_reason=last.failure_reason,
            created_at=last.created_at,
            finished_at=last.finished_at,
        ),
    )
