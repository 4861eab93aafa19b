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
charge looks up the minute before N and N first (`NEAR`: if N-1 is charged, so is all of
1..N-1), then the latest `WINDOW` minutes after a gap, and all of 1..N after a longer one.
This is the hottest path billing has (every running minute of every session), so the lock,
the lookup, the entries, the balance, the two rollups and the read of the auto top-up
settings are one database function (`charge_usage`, migration 0005): one round trip, in the
transaction of the event's inbox row, with `billing.usage.charged` in the outbox.

Two ways in (ledger.handlers): `charge_usage_on` runs on a bare asyncpg connection (no
session; skiff_messaging.bare), for the usual charge that crosses no rule
(ledger.quiet.rules_stay_quiet): the event goes with COMMIT. When a rule will write, it
answers None: that transaction is rolled back and `charge_usage` applies the event anew in a
session, so the rules' writes commit with the debit.

The balance may go below zero here: the documented overdraft (one running minute per live
session). Crossing from above zero to zero or below emits `billing.credits.exhausted` once,
with an event id made from the entry that crossed (ledger.thresholds); falling below the low
mark emits `billing.credits.low`; and the auto top-up check runs, all in this transaction.
The minutes also go into the day's `container_minutes` and `credits_used` rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from skiff_contracts import new_id
from skiff_contracts.events.billing import UsageCharged
from skiff_contracts.events.sandbox import SessionUsage
from skiff_messaging.bare import Commit
from skiff_messaging.errors import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing import driver, functions
from skiff_billing.functions import AccountState
from skiff_billing.ledger import thresholds
from skiff_billing.ledger.quiet import rules_stay_quiet
from skiff_billing.outbox import OUTBOX
from skiff_billing.policy import Policy
from skiff_billing.topup import service as topup

# A month of running time; more in one event is a runner's bug, kept as a dead letter.
MAX_MINUTES = 31 * 24 * 60
# How many of a session's latest minutes a charge looks up first (the usual event: the
# minute before is charged, this one is new), then after a gap (see the module's docstring).
NEAR = 2
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
    policy = policy or Policy()
    if not _due(usage):
        return None
    connection = await driver.in_transaction(session)
    posted = await _post(connection, usage)
    if posted is None:
        return None
    # On the driver connection the charge ran on: the same transaction, nothing compiled.
    await OUTBOX.record_on(connection, _charged(usage, posted.charge), **_about(usage))
    org, state, now = usage.organization_id, posted.state, posted.now
    await thresholds.after_function(
        session,
        connection,
        org,
        state,
        crossing_entry_id=posted.crossing_entry_id,
        low_mark=policy.low_credit_threshold,
        now=now,
    )
    await topup.after_debit(session, org, state, policy=policy, now=now)
    return posted.charge


async def charge_usage_on(
    connection: asyncpg.Connection, usage: SessionUsage, policy: Policy
) -> Commit | None:
    """`charge_usage` on a bare connection in an open transaction, for when no rule writes:
    what to commit (`billing.usage.charged` goes with COMMIT), or None when a rule will
    write (roll back, then `charge_usage`)."""
    if not _due(usage):
        return Commit()
    posted = await _post(connection, usage)
    if posted is None:
        return Commit()
    if not rules_stay_quiet(posted.state, policy, posted.now, debit=True):
        return None
    return await OUTBOX.record_with_commit(
        connection, _charged(usage, posted.charge), **_about(usage)
    )


@dataclass(frozen=True, slots=True)
class _Posted:
    """A charge written, with what the rules need to decide on it."""

    charge: Charge
    state: AccountState
    crossing_entry_id: str  # the entry that took the balance to zero or below, if one did
    now: datetime


def _due(usage: SessionUsage) -> bool:
    """Whether the event can charge anything (a runaway count is a dead letter)."""
    if usage.minutes_started > MAX_MINUTES:
        raise PermanentError(
            f"{usage.minutes_started} minutes for session {usage.session_id}: over {MAX_MINUTES}"
        )
    return usage.minutes_started >= 1


async def _post(connection: asyncpg.Connection, usage: SessionUsage) -> _Posted | None:
    """The entries, the balance and the rollups; None when nothing was due. The event and
    the rules are the caller's."""
    now = datetime.now(UTC)
    last = usage.minutes_started
    for width in (NEAR, WINDOW, last):  # the last looks at every minute: never too short
        charged, ids, state = await _charge(connection, usage, max(1, last - width + 1), now)
        if charged is not None:
            break
    if not charged or state is None:
        return None
    ids_of = [ids[minute] for minute in charged]
    charge = Charge(
        minutes=len(charged),
        session_total=last,  # 1..N are all charged now
        balance_after=state.balance,
        last_entry_id=ids_of[-1],
        exhausted=state.balance_before > 0 >= state.balance,
    )
    # The entry that took the balance to zero or below (the n-th is at balance_before - n).
    crossing = min(max(state.balance_before, 1), len(ids_of))
    return _Posted(charge, state, ids_of[crossing - 1], now)


async def _charge(
    connection: asyncpg.Connection, usage: SessionUsage, first: int, now: datetime
) -> tuple[list[int] | None, dict[int, str], AccountState | None]:
    """(minutes charged, entry id per minute, account state) for the due minutes of
    first..N; minutes None when the window was too short (nothing written)."""
    minutes = range(first, usage.minutes_started + 1)
    ids = {minute: new_id("txn") for minute in minutes}
    sid = usage.session_id
    row = await functions.call(
        connection,
        functions.CHARGE_USAGE,
        usage.organization_id,
        list(minutes),
        list(ids.values()),
        [usage_reference(sid, minute) for minute in minutes],
        [usage_description(sid, minute) for minute in minutes],
        now,
        now.date(),
    )
    outcome = row["outcome"]
    if outcome == "no_account":
        raise NoAccountYet(f"no credit account for organization {usage.organization_id}")
    if outcome == "window_too_short":
        return None, ids, None
    if outcome == "nothing_due":
        return [], ids, None
    return list(row["charged"]), ids, AccountState.of(row)


def _charged(usage: SessionUsage, charge: Charge) -> UsageCharged:
    """`billing.usage.charged` (the crossings are ledger.thresholds' business)."""
    return UsageCharged(
        organization_id=usage.organization_id,
        session_id=usage.session_id,
        transaction_id=charge.last_entry_id,
        amount=charge.minutes,
        session_credits_total=charge.session_total,
        balance_after=charge.balance_after,
    )


def _about(usage: SessionUsage) -> dict[str, str]:
    return {"subject": usage.session_id, "organization_id": usage.organization_id}
