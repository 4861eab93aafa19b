"""Hold calls that commit alone: one statement on a bare pooled connection, no session.

Each sends its hold function with the rules' inputs (migration 0006) outside a transaction,
so the statement commits by itself: one round trip where the session's road takes three
(BEGIN, the function, COMMIT) and half a millisecond of Python. The function refuses, writing
nothing, when the threshold or auto top-up rules would write after the change (its
`rules_stay_quiet`, the SQL twin of `ledger.quiet.rules_stay_quiet`); these calls then answer
None and the caller takes the session's road (holds.service), where the rules write in the
same transaction as the change. Domain refusals are raised as holds.service raises them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
from skiff_contracts import new_id

from skiff_billing import functions
from skiff_billing.functions import HoldRow
from skiff_billing.holds import errors
from skiff_billing.holds.service import refuse_reservation, refuse_resolution
from skiff_billing.policy import Policy

RULES_TO_APPLY = "SKR01"  # the SQLSTATE of "the rules have something to write"


Rules = tuple[int, list[str], timedelta]


def rules_arguments(policy: Policy) -> Rules:
    """What `rules_stay_quiet` needs of the policy: the low mark, the packages on sale, the
    auto top-up cooldown."""
    return (
        policy.low_credit_threshold,
        [package.id for package in policy.packages],
        timedelta(seconds=policy.autotopup_cooldown_seconds),
    )


async def _call(
    connection: asyncpg.Connection, statement: str, *args: object
) -> asyncpg.Record | None:
    """The function's row; None when it refused because the rules would write."""
    if connection.is_in_transaction():
        raise RuntimeError("a hold call alone must be sent outside a transaction")
    try:
        return await functions.call(connection, statement, *args)
    except asyncpg.PostgresError as error:
        if error.sqlstate == RULES_TO_APPLY:
            return None
        raise


async def reserve(
    connection: asyncpg.Connection,
    organization_id: str,
    amount: int,
    reference: str,
    expires_at: datetime | None,
    description: str,
    rules: Rules,
    now: datetime,
) -> HoldRow | None:
    """holds.service.reserve, committed alone; None when the rules would write."""
    if amount <= 0:
        raise errors.bad_amount("A hold's amount must be a positive number of credits.")
    row = await _call(
        connection, functions.HOLD_RESERVE, organization_id, amount, reference, expires_at,
        description, new_id("hld"), new_id("txn"), now, *rules,
    )  # fmt: skip
    if row is None:
        return None
    refuse_reservation(row, organization_id=organization_id, amount=amount, reference=reference)
    return HoldRow.of(row)


async def capture(
    connection: asyncpg.Connection, hold_id: str, amount: int | None, rules: Rules, now: datetime
) -> HoldRow | None:
    """holds.service.capture, committed alone; None when the rules would write."""
    row = await _call(
        connection, functions.HOLD_CAPTURE, hold_id, amount, new_id("txn"), now, now.date(), *rules
    )
    if row is None:
        return None
    refuse_resolution(row, hold_id)
    return HoldRow.of(row)


async def release(
    connection: asyncpg.Connection, hold_id: str, rules: Rules, now: datetime
) -> HoldRow | None:
    """holds.service.release, committed alone; None when the rules would write."""
    entry_id = new_id("txn")
    row = await _call(connection, functions.HOLD_RELEASE, hold_id, entry_id, now, False, *rules)
    if row is None:
        return None
    refuse_resolution(row, hold_id)
    return HoldRow.of(row)
