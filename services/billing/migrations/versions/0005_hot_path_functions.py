"""The hot paths as database functions: a usage charge and each hold call in one round trip.

Why: each of these transactions ran 6 to 9 statements through the ORM, 2 to 3 ms of Python
per call where PostgreSQL needed a fraction of that (docs/billing.md, Benchmark). Each
function does the writes of one operation, under the same locks in the same order as before
(the account row first, then the hold), and returns what the Python side needs to apply the
rules that stay there (ledger.thresholds: low/exhausted; topup.service: auto top-up) and to
record the outbox events, all in the caller's transaction. Nothing commits here.

Table names are unqualified, like every query of billing: the role's `search_path` is its
schema. Ids and timestamps come from the caller (ids sort by creation in the process that
made them; `now` is the caller's, as in the Python code this replaces).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What every function answers about the account after its change, with the organization's
# auto top-up settings, so the caller applies the rules without reading again; `balance_before`
# is the balance when the account was locked. (Typed as the tables are: RETURN QUERY insists.)
ACCOUNT_STATE = """
    account_id varchar, balance_before bigint, balance bigint, reserved bigint,
    low_credit_notified boolean, topup_enabled boolean, topup_status varchar,
    topup_has_card boolean, topup_threshold bigint, topup_package_id varchar,
    topup_last_attempt_at timestamptz
"""
ACCOUNT_STATE_FUNCTION = f"""
CREATE FUNCTION account_state(p_account_id text, p_balance_before bigint)
RETURNS TABLE ({ACCOUNT_STATE})
LANGUAGE sql STABLE AS $$
    SELECT n.id, p_balance_before, n.balance, n.reserved, n.low_credit_notified,
           t.enabled, t.status, t.payment_method_id IS NOT NULL, t.threshold_credits,
           t.package_id, t.last_attempt_at
    FROM accounts n LEFT JOIN auto_topups t ON t.organization_id = n.organization_id
    WHERE n.id = p_account_id
$$
"""  # noqa: S608 - made of this file's constants, no input

# Adds to an organization's daily counts. Callers pass the metrics sorted, so two
# transactions bumping the same rows lock them in the same order and cannot deadlock.
BUMP_USAGE = """
CREATE FUNCTION bump_usage(
    p_organization_id text, p_day date, p_metrics text[], p_values bigint[]
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO usage_daily (organization_id, day, metric, value)
    SELECT p_organization_id, p_day, u.metric, u.value
    FROM unnest(p_metrics, p_values) AS u(metric, value)
    ON CONFLICT (organization_id, day, metric)
    DO UPDATE SET value = usage_daily.value + excluded.value
$$
"""

# The minutes of one usage event's window (`p_minutes` ascending, with an entry id, reference
# and description each) that have no entry yet are charged: one entry of -1 each, the balance
# moved, the day's two rollups bumped. A session's charged minutes are always 1..M, so when
# the window's first minute is due and is not minute 1, minutes below the window may be due
# too: `window_too_short`, nothing written, and the caller asks again with all of 1..N.
CHARGE_USAGE = f"""
CREATE FUNCTION charge_usage(
    p_organization_id text, p_minutes integer[], p_ids text[], p_references text[],
    p_descriptions text[], p_now timestamptz, p_day date
) RETURNS TABLE (outcome text, charged integer[], {ACCOUNT_STATE})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a accounts%ROWTYPE;
    due integer[];  -- positions in the arrays, ascending
    n integer;
BEGIN
    SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_account';
        RETURN NEXT; RETURN;
    END IF;
    SELECT array_agg(i ORDER BY i) INTO due
    FROM generate_subscripts(p_references, 1) AS i
    WHERE NOT EXISTS (
        SELECT 1 FROM ledger_entries e
        WHERE e.organization_id = p_organization_id AND e.reference = p_references[i]
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
    UPDATE accounts SET balance = a.balance - n WHERE id = a.id;
    PERFORM bump_usage(p_organization_id, p_day, '{{container_minutes,credits_used}}',
                       ARRAY[n, n]::bigint[]);
    RETURN QUERY
    SELECT 'charged'::text,
           ARRAY(SELECT p_minutes[d.i] FROM unnest(due) WITH ORDINALITY AS d(i, k)
                 ORDER BY d.k),
           s.*
    FROM account_state(a.id, a.balance) s;
END $$
"""  # noqa: S608 - made of this file's constants, no input

# A hold's ledger entry, reference `hold:<id>:<type>` (so a hold has one of each type at
# most), and the account's balance and `reserved` moved with it. `a` is the locked account.
HOLD_ENTRY = """
CREATE FUNCTION hold_entry(
    a accounts, h holds, p_type text, p_amount bigint, p_reserved_change bigint,
    p_what text, p_entry_id text, p_now timestamptz
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                                description, reference, created_at)
    VALUES (p_entry_id, a.id, a.organization_id, p_type, p_amount, a.balance + p_amount,
            left(format('%s (%s)', p_what, h.reference), 500),
            format('hold:%s:%s', h.id, p_type), p_now);
    UPDATE accounts SET balance = balance + p_amount, reserved = reserved + p_reserved_change
    WHERE id = a.id;
$$
"""

# A pending hold given back whole (`released`, or `expired`), with its `release` entry of 0.
HOLD_GIVE_BACK = """
CREATE FUNCTION hold_give_back(
    a accounts, h holds, p_status text, p_entry_id text, p_now timestamptz
) RETURNS void
LANGUAGE sql AS $$
    UPDATE holds SET status = p_status, resolved_at = p_now WHERE id = h.id;
    SELECT hold_entry(a, h, 'release', 0, -h.amount,
                      format('%s %s credits', initcap(p_status), h.amount), p_entry_id, p_now);
$$
"""

# Each hold function answers the hold as it is now (NULLs when none) and the account's state.
HOLD_COLUMNS = """
    hold_id varchar, hold_organization_id varchar, hold_amount bigint, hold_captured bigint,
    hold_status varchar, hold_reference varchar, hold_expires_at timestamptz
"""
HOLD_ANSWER = """
    RETURN QUERY
    SELECT outcome, x.id, x.organization_id, x.amount, x.captured, x.status, x.reference,
           x.expires_at, s.*
    FROM account_state(a.id, a.balance) s LEFT JOIN holds x ON x.id = h.id;
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
"""

# A new pending hold, or the one `p_reference` already names. Refused with nothing written: no
# account, the reference holding another amount, or fewer credits available than asked.
HOLD_RESERVE = f"""
CREATE FUNCTION hold_reserve(
    p_organization_id text, p_amount bigint, p_reference text, p_expires_at timestamptz,
    p_description text, p_hold_id text, p_entry_id text, p_now timestamptz
) RETURNS TABLE (outcome text, available bigint, {HOLD_COLUMNS}, {ACCOUNT_STATE})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a accounts%ROWTYPE;
    h holds%ROWTYPE;
BEGIN
    SELECT * INTO a FROM accounts WHERE organization_id = p_organization_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'no_account';
        RETURN NEXT; RETURN;
    END IF;
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
        PERFORM hold_entry(a, h, 'reservation', 0, p_amount,
                           format('Reserved %s credits', p_amount), p_entry_id, p_now);
        outcome := 'reserved';
    END IF;
    RETURN QUERY
    SELECT outcome, available, x.id, x.organization_id, x.amount, x.captured, x.status,
           x.reference, x.expires_at, s.*
    FROM account_state(a.id, a.balance) s LEFT JOIN holds x ON x.id = h.id;
END $$
"""  # noqa: S608 - made of this file's constants, no input

# Spends `p_amount` (NULL: all) of a pending hold; the rest is simply no longer reserved. The
# same capture again answers the hold `unchanged`. A hold past its time expires instead (the
# caller commits that, then refuses the capture); a resolved one or a bad amount is refused
# with nothing written.
HOLD_CAPTURE = f"""
CREATE FUNCTION hold_capture(
    p_hold_id text, p_amount bigint, p_entry_id text, p_now timestamptz, p_day date
) RETURNS TABLE (outcome text, {HOLD_COLUMNS}, {ACCOUNT_STATE})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a accounts%ROWTYPE;
    h holds%ROWTYPE;
    spend bigint;
BEGIN
    {HOLD_LOCK}
    spend := coalesce(p_amount, h.amount);
    IF h.status = 'captured' AND spend = h.captured THEN
        outcome := 'unchanged';
    ELSIF h.status <> 'pending' THEN
        outcome := 'resolved';
    ELSIF h.expires_at <= p_now THEN
        PERFORM hold_give_back(a, h, 'expired', p_entry_id, p_now);
        outcome := 'expired';
    ELSIF spend < 0 OR spend > h.amount THEN
        outcome := 'bad_amount';
    ELSE
        UPDATE holds SET captured = spend, status = 'captured', resolved_at = p_now
        WHERE id = h.id;
        PERFORM hold_entry(a, h, 'capture', -spend, -h.amount,
                           format('Captured %s credits', spend), p_entry_id, p_now);
        IF spend <> 0 THEN
            PERFORM bump_usage(a.organization_id, p_day, '{{credits_used}}', ARRAY[spend]);
        END IF;
        outcome := 'captured';
    END IF;
    {HOLD_ANSWER}
END $$
"""  # noqa: S608 - made of this file's constants, no input

# Gives a pending hold back whole; a released or expired one answers `unchanged`, a captured
# one `resolved`. With `p_only_when_due` (the expiry sweep), the hold expires if it is still
# pending and past its time, and is otherwise left alone (`not_due`).
HOLD_RELEASE = f"""
CREATE FUNCTION hold_release(
    p_hold_id text, p_entry_id text, p_now timestamptz, p_only_when_due boolean
) RETURNS TABLE (outcome text, {HOLD_COLUMNS}, {ACCOUNT_STATE})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a accounts%ROWTYPE;
    h holds%ROWTYPE;
BEGIN
    {HOLD_LOCK}
    IF p_only_when_due THEN
        IF h.status = 'pending' AND h.expires_at <= p_now THEN
            PERFORM hold_give_back(a, h, 'expired', p_entry_id, p_now);
            outcome := 'expired';
        ELSE
            outcome := 'not_due';
        END IF;
    ELSIF h.status IN ('released', 'expired') THEN
        outcome := 'unchanged';
    ELSIF h.status <> 'pending' THEN
        outcome := 'resolved';
    ELSE
        PERFORM hold_give_back(a, h, 'released', p_entry_id, p_now);
        outcome := 'released';
    END IF;
    {HOLD_ANSWER}
END $$
"""

FUNCTIONS = {
    "account_state(text, bigint)": ACCOUNT_STATE_FUNCTION,
    "bump_usage(text, date, text[], bigint[])": BUMP_USAGE,
    "charge_usage(text, integer[], text[], text[], text[], timestamptz, date)": CHARGE_USAGE,
    "hold_entry(accounts, holds, text, bigint, bigint, text, text, timestamptz)": HOLD_ENTRY,
    "hold_give_back(accounts, holds, text, text, timestamptz)": HOLD_GIVE_BACK,
    "hold_reserve(text, bigint, text, timestamptz, text, text, text, timestamptz)": HOLD_RESERVE,
    "hold_capture(text, bigint, text, timestamptz, date)": HOLD_CAPTURE,
    "hold_release(text, text, timestamptz, boolean)": HOLD_RELEASE,
}


def upgrade() -> None:
    for definition in FUNCTIONS.values():
        op.execute(definition)


def downgrade() -> None:
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
