"""Lookups by reference probe the unique index, however small the tables were when planned.

Why: the hot functions run on pooled connections that keep their plans. A plan made while a
table was nearly empty (a new install, the first calls of a benchmark) is kept after the table
grows, until an ANALYZE invalidates it. Two such plans read every row of the organization:

- `charge_usage` asked `NOT EXISTS (... reference = p_references[i])`, which PostgreSQL turns
  into a hash anti-join over the organization's whole ledger (1.3 ms per charge at 3 000
  entries, and growing) instead of one index probe per minute. `OFFSET 0` keeps the subquery a
  correlated probe: at most a handful per call, each on the unique index.
- Lookups by `(organization_id, reference)` chose the `(organization_id, id)` listing index and
  filtered every row of the organization: both indexes cost the same on a tiny table and the
  tie went to the listing index. The unique constraints are rebuilt after the listing
  indexes, so ties go to them (tests/ledger/test_lookup_plans.py holds this).
- `charge_usage` also bumps the day's rollups and reads the auto top-up settings itself, as
  0006's hold functions do, instead of calling `bump_usage` and `account_state` (a second read
  of the account it had just updated): less of PostgreSQL's time per posting.
- `hold_reserve` no longer looks its reference up first: the usual call names a new reference,
  which it inserts with `ON CONFLICT DO NOTHING` (the unique index is the check). Only a
  conflict or too few credits then read the hold the reference names. Same outcomes, same
  locks (the account row first).

Revision ID: 0007
Revises: 0006
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _revision(file: str) -> ModuleType:
    """An earlier revision's module, whose definitions this one builds on or puts back."""
    path = Path(__file__).with_name(file)
    spec = importlib.util.spec_from_file_location(f"billing_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_0005 = _revision("0005_hot_path_functions.py")
_0006 = _revision("0006_hold_calls_alone.py")

# (table, constraint, columns): each rebuilt after the table's other indexes.
UNIQUE_REFERENCES = (
    ("ledger_entries", "uq_ledger_entries_reference", "organization_id, reference"),
    ("holds", "uq_holds_reference", "organization_id, reference"),
)

CHARGE_USAGE_SIGNATURE = "charge_usage(text, integer[], text[], text[], text[], timestamptz, date)"
CHARGE_USAGE = f"""
CREATE OR REPLACE FUNCTION charge_usage(
    p_organization_id text, p_minutes integer[], p_ids text[], p_references text[],
    p_descriptions text[], p_now timestamptz, p_day date
) RETURNS TABLE (outcome text, charged integer[], {_0005.ACCOUNT_STATE})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a accounts%ROWTYPE;  -- the account as locked
    t auto_topups%ROWTYPE;
    due integer[];  -- positions in the arrays, ascending
    n integer;
BEGIN
    SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_account';
        RETURN NEXT; RETURN;
    END IF;
    -- OFFSET 0: one probe of the unique index per minute, never a join over the whole ledger.
    SELECT array_agg(i ORDER BY i) INTO due
    FROM generate_subscripts(p_references, 1) AS i
    WHERE NOT EXISTS (
        SELECT 1 FROM ledger_entries e
        WHERE e.organization_id = p_organization_id AND e.reference = p_references[i]
        OFFSET 0
    );
    IF due IS NULL OR (p_minutes[1] > 1 AND due[1] = 1) THEN
        outcome := CASE WHEN due IS NULL THEN 'nothing_due' ELSE 'window_too_short' END;
        RETURN NEXT; RETURN;
    END IF;
    n := cardinality(due);
    INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                                description, reference, created_at)
    SELECT p_ids[d.i], a.id, p_organization_id, 'usage', -1, a.balance - d.k,
           p_descriptions[d.i], p_references[d.i], p_now
    FROM unnest(due) WITH ORDINALITY AS d(i, k);
    UPDATE accounts SET balance = a.balance - n WHERE id = a.id
    RETURNING balance, reserved, low_credit_notified
    INTO balance, reserved, low_credit_notified;
    -- bump_usage's rows, metrics in its order (no deadlock with another bump of the day).
    INSERT INTO usage_daily (organization_id, day, metric, value)
    VALUES (p_organization_id, p_day, 'container_minutes', n),
           (p_organization_id, p_day, 'credits_used', n)
    ON CONFLICT (organization_id, day, metric)
    DO UPDATE SET value = usage_daily.value + excluded.value;
    SELECT * INTO t FROM auto_topups WHERE organization_id = p_organization_id;
    outcome := 'charged';
    charged := ARRAY(SELECT p_minutes[d.i] FROM unnest(due) WITH ORDINALITY AS d(i, k)
                     ORDER BY d.k);
    account_id := a.id; balance_before := a.balance;
    topup_enabled := t.enabled; topup_status := t.status;
    topup_has_card := t.payment_method_id IS NOT NULL;
    topup_threshold := t.threshold_credits; topup_package_id := t.package_id;
    topup_last_attempt_at := t.last_attempt_at;
    RETURN NEXT;
END $$
"""  # noqa: S608 - made of this file's and earlier revisions' constants, no input

HOLD_RESERVE_SIGNATURE = (
    f"hold_reserve(text, bigint, text, timestamptz, text, text, text, timestamptz, {_0006.RULES})"
)
HOLD_RESERVE = f"""
CREATE OR REPLACE FUNCTION hold_reserve(
    p_organization_id text, p_amount bigint, p_reference text, p_expires_at timestamptz,
    p_description text, p_hold_id text, p_entry_id text, p_now timestamptz,
    {_0006.RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, available bigint, {_0006.HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {_0006.HOLD_VARIABLES}
    inserted boolean := false;
BEGIN
    SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_account';
        RETURN NEXT; RETURN;
    END IF;
    locked_balance := a.balance;
    available := greatest(a.balance - a.reserved, 0);
    IF available >= p_amount THEN
        INSERT INTO holds (id, organization_id, amount, captured, status, reference,
                           description, expires_at, created_at)
        VALUES (p_hold_id, p_organization_id, p_amount, 0, 'pending', p_reference,
                p_description, p_expires_at, p_now)
        ON CONFLICT ON CONSTRAINT uq_holds_reference DO NOTHING
        RETURNING * INTO h;
        inserted := FOUND;
    END IF;
    IF inserted THEN
        a := hold_entry(a, h, 'reservation', 0, p_amount,
                        format('Reserved %s credits', p_amount), p_entry_id, p_now);
        outcome := 'reserved';
        debit := true;
    ELSE
        SELECT * INTO h FROM holds
        WHERE organization_id = p_organization_id AND reference = p_reference;
        IF NOT FOUND THEN
            outcome := 'insufficient_credits';
            RETURN NEXT; RETURN;
        END IF;
        outcome := CASE WHEN h.amount = p_amount THEN 'existing' ELSE 'reference_reused' END;
    END IF;
    {_0006.HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's and earlier revisions' constants, no input


def _rebuild_unique_references() -> None:
    for table, constraint, columns in UNIQUE_REFERENCES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE ({columns})")


def upgrade() -> None:
    _rebuild_unique_references()
    op.execute(CHARGE_USAGE)
    op.execute(HOLD_RESERVE)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {HOLD_RESERVE_SIGNATURE}")
    op.execute(_0006.HOLD_RESERVE)
    op.execute(f"DROP FUNCTION {CHARGE_USAGE_SIGNATURE}")
    op.execute(_0005.CHARGE_USAGE)
    # The constraints stay rebuilt: the same definitions, only created later.
