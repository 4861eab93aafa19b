"""Hold calls that commit in their own statement when the rules have nothing to write.

Why: a hold call through a session is BEGIN, the function, COMMIT (three round trips and the
session's Python around them), though most calls cross no mark and start no auto top-up, so
nothing but the function writes (docs/billing.md, Benchmark). The hold functions now also take
the policy's figures the rules need (the low mark, the packages on sale, the auto top-up
cooldown). Given them, a function asks `rules_stay_quiet` (the SQL twin of
`ledger.quiet.rules_stay_quiet`) whether the threshold and auto top-up rules would write after
its change; if they would, it raises `SKR01`, so the statement's writes are undone and the
caller takes the session's road. Given NULLs (the session's road, the expiry sweep) it never
refuses and the caller applies the rules in its transaction, as with 0005.

The functions are rewritten in one PL/pgSQL body each: 0005's SQL helpers (`hold_entry`,
`hold_give_back`) and its closing `account_state` join cost more than the writes (0.3-0.4 ms
of server time per call, now about half). Same locks in the same order (the account row, then
the hold), same rows written, same answers. The two predicates are kept in step by a property
test (tests/ledger/test_quiet_sql.py).

Revision ID: 0006
Revises: 0005
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ledger.thresholds.crossings and topup.guards.package_to_buy, as one predicate: no exhaustion,
# no new low note, `low_credit_notified` left as it is, and (after a debit) no package to buy.
RULES_STAY_QUIET = """
CREATE FUNCTION rules_stay_quiet(
    p_balance_before bigint, p_balance bigint, p_reserved bigint, p_low_credit_notified boolean,
    p_topup_enabled boolean, p_topup_status text, p_topup_has_card boolean,
    p_topup_threshold bigint, p_topup_package_id text, p_topup_last_attempt_at timestamptz,
    p_debit boolean, p_low_mark bigint, p_packages text[], p_cooldown interval, p_now timestamptz
) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT NOT (p_balance_before > 0 AND p_balance <= 0)
       AND (greatest(p_balance - p_reserved, 0) >= p_low_mark) <> p_low_credit_notified
       AND (NOT p_debit
            OR p_topup_enabled IS NULL
            OR NOT p_topup_enabled
            OR p_topup_status <> 'active'
            OR NOT p_topup_has_card
            OR greatest(p_balance - p_reserved, 0) >= p_topup_threshold
            OR NOT p_topup_package_id = ANY (p_packages)
            OR (p_topup_last_attempt_at IS NOT NULL
                AND p_now - p_topup_last_attempt_at < p_cooldown))
$$
"""

# A hold's ledger entry, reference `hold:<id>:<type>` (so a hold has one of each type at
# most), and the account's balance and `reserved` moved with it; answers the account after.
HOLD_ENTRY = """
CREATE FUNCTION hold_entry(
    a accounts, h holds, p_type text, p_amount bigint, p_reserved_change bigint,
    p_what text, p_entry_id text, p_now timestamptz
) RETURNS accounts
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                                description, reference, created_at)
    VALUES (p_entry_id, a.id, a.organization_id, p_type, p_amount, a.balance + p_amount,
            left(format('%s (%s)', p_what, h.reference), 500),
            format('hold:%s:%s', h.id, p_type), p_now);
    UPDATE accounts SET balance = balance + p_amount, reserved = reserved + p_reserved_change
    WHERE id = a.id
    RETURNING * INTO a;
    RETURN a;
END $$
"""

# A pending hold given back whole (`released`, or `expired`), with its `release` entry of 0.
HOLD_GIVE_BACK = """
CREATE FUNCTION hold_give_back(
    a accounts, h holds, p_status text, p_entry_id text, p_now timestamptz
) RETURNS accounts
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE holds SET status = p_status, resolved_at = p_now WHERE id = h.id;
    RETURN hold_entry(a, h, 'release', 0, -h.amount,
                      format('%s %s credits', initcap(p_status), h.amount), p_entry_id, p_now);
END $$
"""

RULES_ARGUMENTS = "p_low_mark bigint, p_packages text[], p_cooldown interval"
# Each hold function answers the hold as it is now (NULLs when none) and the account's state
# after the change with the organization's auto top-up settings (as 0005's, by `account_state`).
HOLD_COLUMNS = """
    hold_id varchar, hold_organization_id varchar, hold_amount bigint, hold_captured bigint,
    hold_status varchar, hold_reference varchar, hold_expires_at timestamptz,
    account_id varchar, balance_before bigint, balance bigint, reserved bigint,
    low_credit_notified boolean, topup_enabled boolean, topup_status varchar,
    topup_has_card boolean, topup_threshold bigint, topup_package_id varchar,
    topup_last_attempt_at timestamptz
"""
HOLD_VARIABLES = """
    a accounts%ROWTYPE;  -- the account, locked; after the change once changed
    h holds%ROWTYPE;     -- the hold as it is now
    t auto_topups%ROWTYPE;
    locked_balance bigint;  -- the balance when the account was locked
    debit boolean;       -- set by a change: true when it lowered `available`
"""
# Fills the answer; with the rules' inputs, refuses a change after which they would write.
HOLD_ANSWER = """
    SELECT * INTO t FROM auto_topups WHERE organization_id = a.organization_id;
    IF debit IS NOT NULL AND p_low_mark IS NOT NULL AND NOT rules_stay_quiet(
        locked_balance, a.balance, a.reserved, a.low_credit_notified, t.enabled, t.status,
        t.payment_method_id IS NOT NULL, t.threshold_credits, t.package_id, t.last_attempt_at,
        debit, p_low_mark, p_packages, p_cooldown, p_now
    ) THEN
        RAISE EXCEPTION 'the rules have something to write' USING ERRCODE = 'SKR01';
    END IF;
    hold_id := h.id; hold_organization_id := h.organization_id; hold_amount := h.amount;
    hold_captured := h.captured; hold_status := h.status; hold_reference := h.reference;
    hold_expires_at := h.expires_at;
    account_id := a.id; balance_before := locked_balance;
    balance := a.balance; reserved := a.reserved;
    low_credit_notified := a.low_credit_notified;
    topup_enabled := t.enabled; topup_status := t.status;
    topup_has_card := t.payment_method_id IS NOT NULL;
    topup_threshold := t.threshold_credits; topup_package_id := t.package_id;
    topup_last_attempt_at := t.last_attempt_at;
    RETURN NEXT;
"""
# Locks the hold's account, then the hold: the order every writer of holds follows.
HOLD_LOCK = """
    SELECT * INTO a FROM accounts WHERE organization_id =
        (SELECT organization_id FROM holds WHERE id = p_hold_id) FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN NEXT; RETURN;
    END IF;
    SELECT * INTO h FROM holds WHERE id = p_hold_id FOR UPDATE;
    locked_balance := a.balance;
"""

# A new pending hold, or the one `p_reference` already names. Refused with nothing written: no
# account, the reference holding another amount, or fewer credits available than asked.
HOLD_RESERVE = f"""
CREATE FUNCTION hold_reserve(
    p_organization_id text, p_amount bigint, p_reference text, p_expires_at timestamptz,
    p_description text, p_hold_id text, p_entry_id text, p_now timestamptz, {RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, available bigint, {HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {HOLD_VARIABLES}
BEGIN
    SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_account';
        RETURN NEXT; RETURN;
    END IF;
    locked_balance := a.balance;
    available := greatest(a.balance - a.reserved, 0);
    SELECT * INTO h FROM holds
    WHERE organization_id = p_organization_id AND reference = p_reference;
    IF FOUND THEN
        outcome := CASE WHEN h.amount = p_amount THEN 'existing' ELSE 'reference_reused' END;
    ELSIF available < p_amount THEN
        outcome := 'insufficient_credits';
        RETURN NEXT; RETURN;
    ELSE
        INSERT INTO holds (id, organization_id, amount, captured, status, reference,
                           description, expires_at, created_at)
        VALUES (p_hold_id, p_organization_id, p_amount, 0, 'pending', p_reference,
                p_description, p_expires_at, p_now)
        RETURNING * INTO h;
        a := hold_entry(a, h, 'reservation', 0, p_amount,
                        format('Reserved %s credits', p_amount), p_entry_id, p_now);
        outcome := 'reserved';
        debit := true;
    END IF;
    {HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's constants, no input

# Spends `p_amount` (NULL: all) of a pending hold; the rest is simply no longer reserved. The
# same capture again answers the hold `unchanged`. A hold past its time expires instead (the
# caller commits that, then refuses the capture); a resolved one or a bad amount is refused
# with nothing written.
HOLD_CAPTURE = f"""
CREATE FUNCTION hold_capture(
    p_hold_id text, p_amount bigint, p_entry_id text, p_now timestamptz, p_day date,
    {RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, {HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {HOLD_VARIABLES}
    spend bigint;
BEGIN
    {HOLD_LOCK}
    spend := coalesce(p_amount, h.amount);
    IF h.status = 'captured' AND spend = h.captured THEN
        outcome := 'unchanged';
    ELSIF h.status <> 'pending' THEN
        outcome := 'resolved';
    ELSIF h.expires_at <= p_now THEN
        a := hold_give_back(a, h, 'expired', p_entry_id, p_now);
        outcome := 'expired';
        debit := false;
    ELSIF spend < 0 OR spend > h.amount THEN
        outcome := 'bad_amount';
    ELSE
        UPDATE holds SET captured = spend, status = 'captured', resolved_at = p_now
        WHERE id = h.id;
        a := hold_entry(a, h, 'capture', -spend, -h.amount,
                        format('Captured %s credits', spend), p_entry_id, p_now);
        IF spend <> 0 THEN
            PERFORM bump_usage(a.organization_id, p_day, '{{credits_used}}', ARRAY[spend]);
        END IF;
        outcome := 'captured';
        debit := true;
    END IF;
    SELECT * INTO h FROM holds WHERE id = p_hold_id;
    {HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's constants, no input

# Gives a pending hold back whole; a released or expired one answers `unchanged`, a captured
# one `resolved`. With `p_only_when_due` (the expiry sweep), the hold expires if it is still
# pending and past its time, and is otherwise left alone (`not_due`).
HOLD_RELEASE = f"""
CREATE FUNCTION hold_release(
    p_hold_id text, p_entry_id text, p_now timestamptz, p_only_when_due boolean,
    {RULES_ARGUMENTS}
) RETURNS TABLE (outcome text, {HOLD_COLUMNS})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE {HOLD_VARIABLES}
BEGIN
    {HOLD_LOCK}
    IF p_only_when_due THEN
        IF h.status = 'pending' AND h.expires_at <= p_now THEN
            a := hold_give_back(a, h, 'expired', p_entry_id, p_now);
            outcome := 'expired';
            debit := false;
        ELSE
            outcome := 'not_due';
        END IF;
    ELSIF h.status IN ('released', 'expired') THEN
        outcome := 'unchanged';
    ELSIF h.status <> 'pending' THEN
        outcome := 'resolved';
    ELSE
        a := hold_give_back(a, h, 'released', p_entry_id, p_now);
        outcome := 'released';
        debit := false;
    END IF;
    SELECT * INTO h FROM holds WHERE id = p_hold_id;
    {HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's constants, no input

RULES = "bigint, text[], interval"
FUNCTIONS = {
    "rules_stay_quiet(bigint, bigint, bigint, boolean, boolean, text, boolean, bigint, text,"
    " timestamptz, boolean, bigint, text[], interval, timestamptz)": RULES_STAY_QUIET,
    "hold_entry(accounts, holds, text, bigint, bigint, text, text, timestamptz)": HOLD_ENTRY,
    "hold_give_back(accounts, holds, text, text, timestamptz)": HOLD_GIVE_BACK,
    "hold_reserve(text, bigint, text, timestamptz, text, text, text, timestamptz,"
    f" {RULES})": HOLD_RESERVE,
    f"hold_capture(text, bigint, text, timestamptz, date, {RULES})": HOLD_CAPTURE,
    f"hold_release(text, text, timestamptz, boolean, {RULES})": HOLD_RELEASE,
}
# 0005's hold functions, replaced here (their signatures as 0005 made them).
REPLACED = (
    "hold_reserve(text, bigint, text, timestamptz, text, text, text, timestamptz)",
    "hold_capture(text, bigint, text, timestamptz, date)",
    "hold_release(text, text, timestamptz, boolean)",
    "hold_give_back(accounts, holds, text, text, timestamptz)",
    "hold_entry(accounts, holds, text, bigint, bigint, text, text, timestamptz)",
)


def _revision_0005() -> ModuleType:
    """0005's module, whose definitions a downgrade puts back."""
    path = Path(__file__).with_name("0005_hot_path_functions.py")
    spec = importlib.util.spec_from_file_location("billing_0005", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    for signature in REPLACED:
        op.execute(f"DROP FUNCTION {signature}")
    for definition in FUNCTIONS.values():
        op.execute(definition)


def downgrade() -> None:
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    earlier = _revision_0005()
    for signature in reversed(REPLACED):
        op.execute(earlier.FUNCTIONS[signature])
