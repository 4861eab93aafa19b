"""Charging sessions' container-minutes: one ledger entry per started minute, exactly once.

A session's charges are topped up to the `minutes_started` of each `sandbox.session.usage`
event: every minute 1..N that has no entry yet gets one, with the reference
`usage:<session>:<minute>`. Why one entry per minute rather than one per event:

- the reference of a minute is the same whichever event charges it (the per-minute event,
  a re-emission, or a `final` that overtook it), so the unique (organization_id, reference)
  makes "each minute once" a property of the database, not of the events' order;
- the account row is locked first (`SELECT ... FOR UPDATE`), so two events of one
  organization apply one after the other and the second sees the first's entries (read
  committed: each statement sees what committed before it started); the unique reference
  is the backstop if that ever fails (the insert errors, the event is retried).

Because every charge fills the whole range 1..N, a session's charged minutes are always
1..M (M the highest `minutes_started` seen): after a charge the session's total is N, and a
charge only looks up the session's latest minutes (`_due_minutes`). The entries and the new
balance go to the database in one statement, the two rollups in another: a usage event costs
a handful of round trips, the hottest path billing has (every running minute of every session).

The balance may go below zero here: the documented overdraft (one running minute per live
session). Crossing from above zero to zero or below emits `billing.credits.exhausted` once,
with an event id made from the entry that crossed (ledger.thresholds); falling below the low
mark emits `billing.credits.low`; and the auto top-up check runs, all in this transaction.
The minutes also go into the day's `container_minutes` and `credits_used` rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from skiff_contracts import new_id
from skiff_contracts.events.billing import UsageCharged
from skiff_contracts.events.sandbox import SessionUsage
from skiff_messaging.errors import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.ledger import repository, thresholds
from skiff_billing.ledger.repository import Posting
from skiff_billing.outbox import OUTBOX
from skiff_billing.policy import Policy
from skiff_billing.topup import service as topup
from skiff_billing.usage import rollups

# A month of running time; more in one event is a runner's bug, kept as a dead letter.
MAX_MINUTES = 31 * 24 * 60
USAGE = "usage"
# How many of a session's latest minutes a charge looks up (see _due_minutes).
WINDOW = 16


class NoAccountYet(Exception):
    """Usage of an organization billing has not opened an account for (yet): retried."""


@dataclass(frozen=True, slots=True)
class Charge:
    """What one usage event charged."""

    minutes: int
    session_total: int
    balance_after: int
    last_entry_id: str
    exhausted: bool


def usage_reference(session_id: str, minute: int) -> str:
    """The ledger reference of one container-minute of a session."""
    return f"usage:{session_id}:{minute}"


def usage_description(session_id: str, minute: int) -> str:
    return f"Session {session_id} — 1 container-minute (minute {minute})"


exhausted_event_id = thresholds.exhausted_event_id


async def charge_usage(
    session: AsyncSession, usage: SessionUsage, policy: Policy | None = None
) -> Charge | None:
    """Top the session's charges up to `usage.minutes_started`; None when nothing was due."""
    if usage.minutes_started > MAX_MINUTES:
        raise PermanentError(
            f"{usage.minutes_started} minutes for session {usage.session_id}: over {MAX_MINUTES}"
        )
    if usage.minutes_started < 1:
        return None
    account = await repository.account_for_update(session, usage.organization_id)
    if account is None:
        raise NoAccountYet(f"no credit account for organization {usage.organization_id}")
    due = await _due_minutes(session, usage)
    if not due:
        return None
    before = account.balance
    now = datetime.now(UTC)
    entries = [
        Posting(
            id=new_id("txn"),
            amount=-1,
            balance_after=before - n,
            description=usage_description(usage.session_id, minute),
            reference=usage_reference(usage.session_id, minute),
        )
        for n, minute in enumerate(due, start=1)
    ]
    await repository.append(session, account, USAGE, entries, now)
    charge = Charge(
        minutes=len(due),
        session_total=usage.minutes_started,  # 1..N are all charged now
        balance_after=account.balance,
        last_entry_id=entries[-1].id,
        exhausted=before > 0 >= account.balance,
    )
    await _announce(session, usage, charge)
    policy = policy or Policy()
    crossing = next((e for e in entries if e.balance_after <= 0), entries[-1])
    await thresholds.after_change(
        session,
        account,
        balance_before=before,
        crossing_entry_id=crossing.id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
    metrics = {"container_minutes": len(due), "credits_used": len(due)}
    await rollups.bump_many(session, account.organization_id, now.date(), metrics)
    await topup.after_debit(session, account, policy=policy, now=now)
    return charge


async def _due_minutes(session: AsyncSession, usage: SessionUsage) -> list[int]:
    """The minutes of 1..N not charged yet, N = `minutes_started`.

    A session's charged minutes are always 1..M, so when the first of its last `WINDOW`
    minutes is charged, every minute below it is too: only those are looked up, and a charge
    costs the same at a session's first minute as at its thousandth. A gap wider than the
    window (a runner that was away for a while) looks up all of 1..N.
    """
    last = usage.minutes_started
    first = max(1, last - WINDOW + 1)
    due = await _uncharged(session, usage, first, last)
    if first > 1 and due and due[0] == first:
        due = await _uncharged(session, usage, 1, last)
    return due


async def _uncharged(
    session: AsyncSession, usage: SessionUsage, first: int, last: int
) -> list[int]:
    wanted = {usage_reference(usage.session_id, m): m for m in range(first, last + 1)}
    charged = await repository.existing_references(session, usage.organization_id, list(wanted))
    return [minute for reference, minute in wanted.items() if reference not in charged]


async def _announce(session: AsyncSession, usage: SessionUsage, charge: Charge) -> None:
    """`billing.usage.charged` (the crossings are ledger.thresholds' business)."""
    await OUTBOX.record(
        session,
        UsageCharged(
            organization_id=usage.organization_id,
            session_id=usage.session_id,
            transaction_id=charge.last_entry_id,
            amount=charge.minutes,
            session_credits_total=charge.session_total,
            balance_after=charge.balance_after,
        ),
        subject=usage.session_id,
        organization_id=usage.organization_id,
    )
