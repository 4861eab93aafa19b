"""Reserve and capture write their rows in their own body: no nested function per call.

Why: `hold_reserve` and `hold_capture` called `hold_entry` (a PL/pgSQL function taking the
account and hold rows) for the ledger entry and the balance, and `hold_capture` called
`bump_usage` for the day's `credits_used` and read the hold again at the end. Each nested call
is a function call and a statement more in PostgreSQL, on the path every deployment takes
twice. Now:

- `hold_reserve` inserts the reservation entry and moves `reserved` itself;
- `hold_capture` tries the usual case first (a pending hold in its time, a valid amount): the
  hold's UPDATE answers the hold (`RETURNING`), then the capture entry, the balance and
  `reserved`, and the day's `credits_used` are written in the body. The other outcomes
  (`unchanged`, `resolved`, `expired`, `bad_amount`) are decided exactly as 0006 decided them.

Same rows, same references and descriptions, same locks in the same order (the account row,
then the hold), same answers. `hold_release` and the expiry keep `hold_give_back`.

Revision ID: 0008
Revises: 0007
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
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


_0006 = _revision("0006_hold_calls_alone.py")
_0007 = _revision("0007_reference_lookups_probe.py")

HOLD_RESERVE = f"""
CREATE OR REPLACE FUNCTION hold_reserve(
    p_organization_id text, p_amount bigint, p_reference text, p_expires_at timestamptz,
    p_description text, p_hold_id text, p_entry_id text, p_now timestamptz,
    {_0006.RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, available bigint, {_0006.HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {_0006.HOLD_VARIABLES}
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
    END IF;
    IF h.id IS NOT NULL THEN  -- inserted: a new reference
        INSERT INTO ledger_entries (id, account_id, organization_id, type, amount,
                                    balance_after, description, reference, created_at)
        VALUES (p_entry_id, a.id, p_organization_id, 'reservation', 0, a.balance,
                left(format('Reserved %s credits (%s)', p_amount, p_reference), 500),
                format('hold:%s:reservation', p_hold_id), p_now);
        UPDATE accounts SET reserved = reserved + p_amount WHERE id = a.id RETURNING * INTO a;
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

HOLD_CAPTURE = f"""
CREATE OR REPLACE FUNCTION hold_capture(
    p_hold_id text, p_amount bigint, p_entry_id text, p_now timestamptz, p_day date,
    {_0006.RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, {_0006.HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {_0006.HOLD_VARIABLES}
    spend bigint;
BEGIN
    {_0006.HOLD_LOCK}
    spend := coalesce(p_amount, h.amount);
    IF h.status = 'pending' AND (h.expires_at IS NULL OR h.expires_at > p_now)
       AND spend BETWEEN 0 AND h.amount THEN
        UPDATE holds SET captured = spend, status = 'captured', resolved_at = p_now
        WHERE id = h.id RETURNING * INTO h;
        INSERT INTO ledger_entries (id, account_id, organization_id, type, amount,
                                    balance_after, description, reference, created_at)
        VALUES (p_entry_id, a.id, a.organization_id, 'capture', -spend, a.balance - spend,
                left(format('Captured %s credits (%s)', spend, h.reference), 500),
                format('hold:%s:capture', h.id), p_now);
        UPDATE accounts SET balance = balance - spend, reserved = reserved - h.amount
        WHERE id = a.id RETURNING * INTO a;
        IF spend <> 0 THEN  -- bump_usage's row, as it wrote it
            INSERT INTO usage_daily (organization_id, day, metric, value)
            VALUES (a.organization_id, p_day, 'credits_used', spend)
            ON CONFLICT (organization_id, day, metric)
            DO UPDATE SET value = usage_daily.value + excluded.value;
        END IF;
        outcome := 'captured';
        debit := true;
    ELSIF h.status = 'captured' AND spend = h.captured THEN
        outcome := 'unchanged';
    ELSIF h.status <> 'pending' THEN
        outcome := 'resolved';
    ELSIF h.expires_at <= p_now THEN
        a := hold_give_back(a, h, 'expired', p_entry_id, p_now);
        SELECT * INTO h FROM holds WHERE id = p_hold_id;
        outcome := 'expired';
        debit := false;
    ELSE
        outcome := 'bad_amount';
    END IF;
    {_0006.HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's and earlier revisions' constants, no input


def upgrade() -> None:
    op.execute(HOLD_RESERVE)
    op.execute(HOLD_CAPTURE)


def downgrade() -> None:
    op.execute(_0007.HOLD_RESERVE)
    op.execute(_0006.HOLD_CAPTURE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
