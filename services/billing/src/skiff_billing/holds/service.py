"""The rules of holds, after TigerBeetle's two-phase transfers. Never commits.

A hold moves no credits: `reserve` adds its amount to the account's `reserved` (so
`available` drops) and writes a `reservation` entry of 0; `capture` spends all or part of it
(one `capture` entry of minus that amount; the rest is simply no longer reserved); `release`
and expiry give it back (a `release` entry of 0). Every writer locks the account row first,
then the hold, so concurrent calls for one organization apply one after the other and a hold
leaves `pending` exactly once (the database also refuses a resolved hold without a time, and
a pending one with one). A reservation and a capture lower `available`: each runs the auto
top-up check in its transaction, with the account still locked.
"""

from __future__ import annotations

from datetime import datetime

from skiff_contracts import new_id
from skiff_kit.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.holds import errors, repository
from skiff_billing.ledger import service as ledger
from skiff_billing.ledger import thresholds
from skiff_billing.models import Account, Hold
from skiff_billing.policy import Policy
from skiff_billing.topup import service as topup
from skiff_billing.usage import rollups


def _no_account(organization_id: str) -> NotFound:
    return NotFound(f"No credit account for {organization_id}.", code="account_not_found")


async def reserve(
    session: AsyncSession,
    *,
    organization_id: str,
    amount: int,
    reference: str,
    expires_at: datetime | None,
    description: str,
    policy: Policy,
    now: datetime,
) -> Hold:
    """A new pending hold, or the hold `reference` already names (same amount)."""
    if amount <= 0:
        raise errors.bad_amount("A hold's amount must be a positive number of credits.")
    account = await ledger.locked_account(session, organization_id)
    if account is None:
        raise _no_account(organization_id)
    existing = await repository.by_reference(session, organization_id, reference)
    if existing is not None:
        if existing.amount != amount:
            raise errors.reference_reused(reference, existing.amount)
        return existing
    if account.available < amount:
        raise errors.insufficient_credits(amount, account.available)
    hold = Hold(
        id=new_id("hld"),
        organization_id=organization_id,
        amount=amount,
        captured=0,
        status="pending",
        reference=reference,
        description=description,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(hold)
    account.reserved += amount
    await _note(session, account, hold, "reservation", 0, f"Reserved {amount} credits", policy, now)
    await topup.after_debit(session, account, policy=policy, now=now)
    return hold


async def capture(
    session: AsyncSession, *, hold_id: str, amount: int | None, policy: Policy, now: datetime
) -> Hold:
    """Spend `amount` (default all) of a pending hold; a hold past `expires_at` expires instead.

    Capturing a captured hold again with the same amount answers it unchanged.
    """
    account, hold = await _locked(session, hold_id)
    spend = hold.amount if amount is None else amount
    if hold.status == "captured" and spend == hold.captured:
        return hold
    if hold.status != "pending":
        raise errors.hold_resolved(hold_id, hold.status)
    if hold.expires_at is not None and hold.expires_at <= now:
        await _give_back(session, account, hold, "expired", policy, now)
        return hold
    if not 0 <= spend <= hold.amount:
        raise errors.bad_amount(f"Capture between 0 and {hold.amount} credits of this hold.")
    account.reserved -= hold.amount
    hold.captured, hold.status, hold.resolved_at = spend, "captured", now
    await _note(session, account, hold, "capture", -spend, f"Captured {spend} credits", policy, now)
    await rollups.bump(session, account.organization_id, now.date(), "credits_used", spend)
    await topup.after_debit(session, account, policy=policy, now=now)
    return hold


async def release(
    session: AsyncSession, *, hold_id: str, policy: Policy, now: datetime, expired: bool = False
) -> Hold:
    """Give a pending hold back whole; a released or expired hold is answered unchanged."""
    account, hold = await _locked(session, hold_id)
    if hold.status in ("released", "expired"):
        return hold
    if hold.status != "pending":
        raise errors.hold_resolved(hold_id, hold.status)
    await _give_back(session, account, hold, "expired" if expired else "released", policy, now)
    return hold


async def release_if_pending(
    session: AsyncSession, *, organization_id: str, reference: str, policy: Policy, now: datetime
) -> Hold | None:
    """Release the organization's hold `reference` if it is pending (None when there is none)."""
    found = await repository.by_reference(session, organization_id, reference)
    if found is None:
        return None
    return await release(session, hold_id=found.id, policy=policy, now=now)


async def expire_due(session: AsyncSession, *, hold_id: str, policy: Policy, now: datetime) -> bool:
    """Expire one hold if it is still pending and due; True when it was."""
    account, hold = await _locked(session, hold_id)
    if hold.status != "pending" or hold.expires_at is None or hold.expires_at > now:
        return False
    await _give_back(session, account, hold, "expired", policy, now)
    return True


async def _locked(session: AsyncSession, hold_id: str) -> tuple[Account, Hold]:
    found = await repository.get(session, hold_id)
    if found is None:
        raise errors.hold_not_found(hold_id)
    account = await ledger.locked_account(session, found.organization_id)
    hold = await repository.locked(session, hold_id)
    if account is None or hold is None:
        raise errors.hold_not_found(hold_id)
    return account, hold


async def _give_back(
    session: AsyncSession, account: Account, hold: Hold, status: str, policy: Policy, now: datetime
) -> None:
    account.reserved -= hold.amount
    hold.status, hold.resolved_at = status, now
    verb = "Expired" if status == "expired" else "Released"
    await _note(session, account, hold, "release", 0, f"{verb} {hold.amount} credits", policy, now)


async def _note(
    session: AsyncSession,
    account: Account,
    hold: Hold,
    type_: str,
    amount: int,
    what: str,
    policy: Policy,
    now: datetime,
) -> None:
    """The hold's ledger entry (reference `hold:<id>:<type>`), then the account's crossings."""
    before = account.balance
    entry = await ledger.post(
        session,
        account,
        type_=type_,
        amount=amount,
        reference=f"hold:{hold.id}:{type_}",
        description=f"{what} ({hold.reference})"[:500],
        now=now,
    )
    await thresholds.after_change(
        session,
        account,
        balance_before=before,
        crossing_entry_id=entry.id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
