"""The rules of auto top-up. Never commits.

`after_debit` runs in the transaction of every debit (usage, a reservation, a capture) with
the account locked: when available credits are below the threshold it starts at most one
attempt, a pending purchase and the event `billing.autotopup.started` (billing's own consumer
then charges the card, outside this transaction). The guards, in order: enabled and active, a
saved card, the package still on sale, the cooldown since the last attempt (topup.guards,
checked on the settings the debit's database function answered, so the usual debit reads
nothing more), no attempt pending (a partial unique index says so even if this code did not),
and the monthly cap, which counts pending attempts as well as succeeded ones. Credits arrive
with the payment's webhook. Three failures in a row disable it (`disabled_after_failures`)
and the owners are told.
"""

from __future__ import annotations

from datetime import datetime

from skiff_contracts import new_id
from skiff_contracts.events.billing import AutoTopupFailed, AutoTopupStarted
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.functions import AccountState
from skiff_billing.ledger.service import month_start
from skiff_billing.models import Purchase, TopupAttempt
from skiff_billing.outbox import OUTBOX
from skiff_billing.policy import Policy
from skiff_billing.purchases import service as purchases
from skiff_billing.topup import repository
from skiff_billing.topup.guards import ACTIVE, DISABLED, package_to_buy

__all__ = ["ACTIVE", "DISABLED", "after_debit", "attempt_failed", "attempt_succeeded"]


async def after_debit(
    session: AsyncSession,
    organization_id: str,
    state: AccountState,
    *,
    policy: Policy,
    now: datetime,
) -> TopupAttempt | None:
    """Start an auto top-up if the account (locked; `state` as the debit's database function
    left it, with the settings it read) is below its threshold and the guards allow it."""
    package = package_to_buy(state.topup, state.available, policy, now)
    if package is None:
        return None
    config = await repository.config(session, organization_id)
    if config is None:
        return None
    org = organization_id
    if await repository.counted_since(session, org, month_start(now)) >= config.max_per_month:
        return None
    attempt_id, purchase_id = new_id("tup"), new_id("pur")
    if not await repository.start_attempt(
        session, attempt_id=attempt_id, organization_id=org, purchase_id=purchase_id, now=now
    ):
        return None
    purchases.add(
        session,
        purchases.new(
            purchase_id=purchase_id,
            organization_id=org,
            kind="auto_topup",
            provider="stripe",
            package_id=package.id,
            credits=package.credits,
            amount=package.price,
            currency=policy.currency,
            now=now,
        ),
    )
    config.last_attempt_at = now
    await OUTBOX.record(
        session,
        AutoTopupStarted(
            organization_id=org,
            attempt_id=attempt_id,
            purchase_id=purchase_id,
            package_id=package.id,
            credits=package.credits,
            amount=package.price,
            currency=policy.currency,
        ),
        subject=attempt_id,
        organization_id=org,
        event_id=f"autotopup_{attempt_id}",
    )
    return await repository.attempt(session, attempt_id)


async def attempt_succeeded(session: AsyncSession, *, purchase: Purchase, now: datetime) -> None:
    """The top-up's payment arrived: the attempt is done, the failure streak is over."""
    if purchase.kind != "auto_topup":
        return
    attempt = await repository.attempt_of_purchase(session, purchase.id)
    if attempt is None or attempt.status == "succeeded":
        return
    attempt.status, attempt.finished_at, attempt.failure_reason = "succeeded", now, None
    config = await repository.locked_config(session, purchase.organization_id)
    if config is not None:
        config.consecutive_failures = 0


async def attempt_failed(
    session: AsyncSession, *, purchase: Purchase, reason: str, policy: Policy, now: datetime
) -> bool:
    """Count a failed charge once (pending → failed); disable after too many in a row."""
    attempt = await repository.attempt_of_purchase(session, purchase.id)
    if attempt is None or attempt.status != "pending":
        return False
    attempt.status, attempt.finished_at, attempt.failure_reason = "failed", now, reason[:500]
    config = await repository.locked_config(session, purchase.organization_id)
    failures, disabled = 1, False
    if config is not None:
        config.consecutive_failures += 1
        failures = config.consecutive_failures
        if failures >= policy.autotopup_max_failures and config.status == ACTIVE:
            config.status, disabled = DISABLED, True
    await OUTBOX.record(
        session,
        AutoTopupFailed(
            organization_id=purchase.organization_id,
            attempt_id=attempt.id,
            purchase_id=purchase.id,
            reason=reason[:500],
            consecutive_failures=failures,
            disabled=disabled,
        ),
        subject=attempt.id,
        organization_id=purchase.organization_id,
        event_id=f"autotopup_failed_{attempt.id}",
    )
    return True
