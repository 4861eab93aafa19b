"""The rules of holds, after TigerBeetle's two-phase transfers. Never commits.

A hold moves no credits: `reserve` adds its amount to the account's `reserved` (so
`available` drops) and writes a `reservation` entry of 0; `capture` spends all or part of it
(one `capture` entry of minus that amount; the rest is simply no longer reserved); `release`
and expiry give it back (a `release` entry of 0). Every writer locks the account row first,
then the hold, so concurrent calls for one organization apply one after the other and a hold
leaves `pending` exactly once (the database also refuses a resolved hold without a time, and
a pending one with one). A reservation and a capture lower `available`: each runs the auto
top-up check in its transaction, with the account still locked.

Each call is one database function (`hold_reserve`, `hold_capture`, `hold_release`,
migrations 0005 and 0006) on the session's connection, in the caller's transaction: the locks, the
idempotency checks and the writes in one round trip. What it answers feeds the rules kept
here and in ledger.thresholds and topup.service (the domain errors, the low/exhausted events,
the auto top-up), which usually write nothing more.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from skiff_contracts import new_id
from skiff_kit.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing import driver, functions
from skiff_billing.functions import AccountState, HoldRow
from skiff_billing.holds import errors, repository
from skiff_billing.ledger import thresholds
from skiff_billing.models import Hold
from skiff_billing.policy import Policy
from skiff_billing.topup import service as topup


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
) -> HoldRow:
    """A new pending hold, or the hold `reference` already names (same amount)."""
    if amount <= 0:
        raise errors.bad_amount("A hold's amount must be a positive number of credits.")
    connection = await driver.in_transaction(session)
    entry_id = new_id("txn")
    row = await functions.call(
        connection,
        functions.HOLD_RESERVE,
        organization_id,
        amount,
        reference,
        expires_at,
        description,
        new_id("hld"),
        entry_id,
        now,
        *functions.NO_RULES,
    )
    refuse_reservation(row, organization_id=organization_id, amount=amount, reference=reference)
    if row["outcome"] == "reserved":
        await _changed(session, connection, row, entry_id, policy, now, debit=True)
    return _answer(session, row)


async def capture(
    session: AsyncSession, *, hold_id: str, amount: int | None, policy: Policy, now: datetime
) -> HoldRow:
    """Spend `amount` (default all) of a pending hold; a hold past `expires_at` expires instead.

    Capturing a captured hold again with the same amount answers it unchanged.
    """
    connection = await driver.in_transaction(session)
    entry_id = new_id("txn")
    row = await functions.call(
        connection,
        functions.HOLD_CAPTURE,
        hold_id,
        amount,
        entry_id,
        now,
        now.date(),
        *functions.NO_RULES,
    )
    refuse_resolution(row, hold_id)
    match row["outcome"]:
        case "expired":
            await _changed(session, connection, row, entry_id, policy, now, debit=False)
        case "captured":
            await _changed(session, connection, row, entry_id, policy, now, debit=True)
    return _answer(session, row)


async def release(session: AsyncSession, *, hold_id: str, policy: Policy, now: datetime) -> HoldRow:
    """Give a pending hold back whole; a released or expired hold is answered unchanged."""
    connection = await driver.in_transaction(session)
    entry_id = new_id("txn")
    row = await functions.call(
        connection, functions.HOLD_RELEASE, hold_id, entry_id, now, False, *functions.NO_RULES
    )
    refuse_resolution(row, hold_id)
    if row["outcome"] == "released":
        await _changed(session, connection, row, entry_id, policy, now, debit=False)
    return _answer(session, row)


async def release_if_pending(
    session: AsyncSession, *, organization_id: str, reference: str, policy: Policy, now: datetime
) -> HoldRow | None:
    """Release the organization's hold `reference` if it is pending (None when there is none)."""
    found = await repository.id_by_reference(session, organization_id, reference)
    if found is None:
        return None
    return await release(session, hold_id=found, policy=policy, now=now)


async def expire_due(session: AsyncSession, *, hold_id: str, policy: Policy, now: datetime) -> bool:
    """Expire one hold if it is still pending and due; True when it was."""
    connection = await driver.in_transaction(session)
    entry_id = new_id("txn")
    row = await functions.call(
        connection, functions.HOLD_RELEASE, hold_id, entry_id, now, True, *functions.NO_RULES
    )
    if row["outcome"] == "not_found":
        raise errors.hold_not_found(hold_id)
    if row["outcome"] != "expired":
        return False
    await _changed(session, connection, row, entry_id, policy, now, debit=False)
    return True


def refuse_reservation(
    row: asyncpg.Record, *, organization_id: str, amount: int, reference: str
) -> None:
    """Raise the domain error of a reservation the function refused (it wrote nothing)."""
    match row["outcome"]:
        case "no_account":
            raise _no_account(organization_id)
        case "reference_reused":
            raise errors.reference_reused(reference, row["hold_amount"])
        case "insufficient_credits":
            raise errors.insufficient_credits(amount, row["available"])


def refuse_resolution(row: asyncpg.Record, hold_id: str) -> None:
    """Raise the domain error of a capture or release the function refused (it wrote nothing)."""
    match row["outcome"]:
        case "not_found":
            raise errors.hold_not_found(hold_id)
        case "resolved":
            raise errors.hold_resolved(hold_id, row["hold_status"])
        case "bad_amount":
            raise errors.bad_amount(
                f"Capture between 0 and {row['hold_amount']} credits of this hold."
            )


def _answer(session: AsyncSession, row: asyncpg.Record) -> HoldRow:
    """The hold as the function left it (also in the session's `Hold`, if it loaded one)."""
    hold = HoldRow.of(row)
    driver.refresh_loaded(session, Hold, hold.id, status=hold.status, captured=hold.captured)
    return hold


async def _changed(
    session: AsyncSession,
    connection: asyncpg.Connection,
    row: asyncpg.Record,
    entry_id: str,
    policy: Policy,
    now: datetime,
    *,
    debit: bool,
) -> None:
    """After the function changed the account: its crossings, and after a debit (a
    reservation or a capture lowered `available`) the auto top-up check."""
    state, org = AccountState.of(row), row["hold_organization_id"]
    await thresholds.after_function(
        session,
        connection,
        org,
        state,
        crossing_entry_id=entry_id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
    if debit:
        await topup.after_debit(session, org, state, policy=policy, now=now)
