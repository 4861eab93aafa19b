"""Reserve and capture write their rows in their own body, and lock rows by writing them.

Why: `hold_reserve` and `hold_capture` called `hold_entry` (a PL/pgSQL function taking the
account and hold rows) for the ledger entry and the balance, `hold_capture` called `bump_usage`
for the day's `credits_used` and read the hold again at the end, and each locked a row with
`SELECT ... FOR UPDATE` before updating it (the row and its WAL record written twice, in two
statements). These run twice for every deployment. Now:

- `hold_reserve` first moves `reserved` by an UPDATE that only matches an account with enough
  available (PostgreSQL rechecks that on the newest row when it waits for the lock), then
  inserts the hold and its reservation entry. When the reference already names a hold, the
  credits go back in the same statement and the named hold is answered; when nothing matched,
  the account is locked and read as before, to answer `no_account`, the hold the reference
  names, or `insufficient_credits`.
- `hold_capture` locks the account as before (every writer of holds takes the account first),
  then captures by an UPDATE that only matches a pending hold in its time with a valid amount,
  and writes the capture entry, the balance and `reserved`, and the day's `credits_used` in its
  body. When nothing matched, the hold is locked and read and the other outcomes (`unchanged`,
  `resolved`, `expired`, `bad_amount`) are decided exactly as 0006 decided them.

Same rows, references and descriptions, same answers, same lock order; the account's lock
during a reservation is the UPDATE's (`FOR NO KEY UPDATE`, which every other writer of the
account also waits for). `hold_release` and the expiry keep `hold_give_back`.

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
    UPDATE accounts SET reserved = reserved + p_amount
    WHERE organization_id = p_organization_id AND balance - reserved >= p_amount
    RETURNING * INTO a;
    IF FOUND THEN
        INSERT INTO holds (id, organization_id, amount, captured, status, reference,
                           description, expires_at, created_at)
        VALUES (p_hold_id, p_organization_id, p_amount, 0, 'pending', p_reference,
                p_description, p_expires_at, p_now)
        ON CONFLICT ON CONSTRAINT uq_holds_reference DO NOTHING
        RETURNING * INTO h;
        IF h.id IS NULL THEN  -- the reference names a hold already: the credits go back
            UPDATE accounts SET reserved = reserved - p_amount WHERE id = a.id
            RETURNING * INTO a;
        END IF;
    ELSE
        SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
        IF NOT FOUND THEN
            outcome := 'no_account';
            RETURN NEXT; RETURN;
        END IF;
    END IF;
    locked_balance := a.balance;  -- a reservation does not move the balance
    IF h.id IS NOT NULL THEN
        available := greatest(a.balance - a.reserved + p_amount, 0);  -- before it
        INSERT INTO ledger_entries (id, account_id, organization_id, type, amount,
                                    balance_after, description, reference, created_at)
        VALUES (p_entry_id, a.id, p_organization_id, 'reservation', 0, a.balance,
                left(format('Reserved %s credits (%s)', p_amount, p_reference), 500),
                format('hold:%s:reservation', p_hold_id), p_now);
        outcome := 'reserved';
        debit := true;
    ELSE
        available := greatest(a.balance - a.reserved, 0);
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
    SELECT * INTO a FROM accounts WHERE organization_id =
        (SELECT organization_id FROM holds WHERE id = p_hold_id) FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN NEXT; RETURN;
    END IF;
    locked_balance := a.balance;
    UPDATE holds SET captured = coalesce(p_amount, amount), status = 'captured',
                     resolved_at = p_now
    WHERE id = p_hold_id AND status = 'pending' AND (expires_at IS NULL OR expires_at > p_now)
      AND coalesce(p_amount, amount) BETWEEN 0 AND amount
    RETURNING * INTO h;
    IF FOUND THEN
        spend := h.captured;
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
    ELSE
        SELECT * INTO h FROM holds WHERE id = p_hold_id FOR UPDATE;
        spend := coalesce(p_amount, h.amount);
        IF h.status = 'captured' AND spend = h.captured THEN
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
