"""Hold calls that commit in their own statement when the rules have nothing to write.

Why: a hold call through a session is BEGIN, the function, COMMIT (three round trips and the
session's Python around them) though most calls cross no mark and start no auto top-up, so
nothing but the function writes (docs/billing.md, Benchmark). Each `*_alone` function runs
0005's function, then asks `rules_stay_quiet` (the SQL twin of `ledger.quiet.rules_stay_quiet`,
fed the same policy figures by the caller) whether the threshold and auto top-up rules would
write after this change. If they would, it raises `SKR01` (`RULES_TO_APPLY`): the statement's
writes are undone and the caller takes the full road (a session, 0005's function and the
rules in one transaction). Otherwise it answers as 0005's function does, and the caller,
having sent it outside any transaction, gets it committed by that one statement.

The two predicates are kept in step by a property test (tests/ledger/test_quiet_sql.py).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

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

# What the caller passes after each 0005 function's own arguments: the policy's low mark, the
# ids of the packages on sale and the auto top-up cooldown.
RULES_ARGUMENTS = "p_low_mark bigint, p_packages text[], p_cooldown interval"


def _alone(name: str, arguments: str, passed: str, columns: str, changes: str) -> str:
    """`<name>_alone`: 0005's `name`, refused with `SKR01` when an outcome in `changes` (each
    `'outcome' = debit`) leaves the rules something to write."""
    names = ", ".join(column.split()[0] for column in columns.split(","))
    return f"""
CREATE FUNCTION {name}_alone({arguments}, {RULES_ARGUMENTS})
RETURNS TABLE ({columns})
LANGUAGE plpgsql AS $$
DECLARE
    debit boolean;
BEGIN
    SELECT * INTO {names} FROM {name}({passed});
    debit := CASE outcome {changes} END;
    IF debit IS NOT NULL AND NOT rules_stay_quiet(
        balance_before, balance, reserved, low_credit_notified, topup_enabled, topup_status,
        topup_has_card, topup_threshold, topup_package_id, topup_last_attempt_at, debit,
        p_low_mark, p_packages, p_cooldown, p_now
    ) THEN
        RAISE EXCEPTION 'the rules have something to write' USING ERRCODE = 'SKR01';
    END IF;
    RETURN NEXT;
END $$
"""  # noqa: S608 - made of this file's constants, no input


HOLD_COLUMNS = """
    hold_id varchar, hold_organization_id varchar, hold_amount bigint, hold_captured bigint,
    hold_status varchar, hold_reference varchar, hold_expires_at timestamptz,
    account_id varchar, balance_before bigint, balance bigint, reserved bigint,
    low_credit_notified boolean, topup_enabled boolean, topup_status varchar,
    topup_has_card boolean, topup_threshold bigint, topup_package_id varchar,
    topup_last_attempt_at timestamptz
"""

HOLD_RESERVE_ALONE = _alone(
    "hold_reserve",
    "p_organization_id text, p_amount bigint, p_reference text, p_expires_at timestamptz,"
    " p_description text, p_hold_id text, p_entry_id text, p_now timestamptz",
    "p_organization_id, p_amount, p_reference, p_expires_at, p_description, p_hold_id,"
    " p_entry_id, p_now",
    f"outcome text, available bigint, {HOLD_COLUMNS}",
    "WHEN 'reserved' THEN true",
)
HOLD_CAPTURE_ALONE = _alone(
    "hold_capture",
    "p_hold_id text, p_amount bigint, p_entry_id text, p_now timestamptz, p_day date",
    "p_hold_id, p_amount, p_entry_id, p_now, p_day",
    f"outcome text, {HOLD_COLUMNS}",
    "WHEN 'captured' THEN true WHEN 'expired' THEN false",
)
HOLD_RELEASE_ALONE = _alone(
    "hold_release",
    "p_hold_id text, p_entry_id text, p_now timestamptz, p_only_when_due boolean",
    "p_hold_id, p_entry_id, p_now, p_only_when_due",
    f"outcome text, {HOLD_COLUMNS}",
    "WHEN 'released' THEN false WHEN 'expired' THEN false",
)

RULES = "text[], interval"
FUNCTIONS = {
    "rules_stay_quiet(bigint, bigint, bigint, boolean, boolean, text, boolean, bigint, text,"
    " timestamptz, boolean, bigint, text[], interval, timestamptz)": RULES_STAY_QUIET,
    "hold_reserve_alone(text, bigint, text, timestamptz, text, text, text, timestamptz,"
    f" bigint, {RULES})": HOLD_RESERVE_ALONE,
    f"hold_capture_alone(text, bigint, text, timestamptz, date, bigint, {RULES})": (
        HOLD_CAPTURE_ALONE
    ),
    f"hold_release_alone(text, text, timestamptz, boolean, bigint, {RULES})": HOLD_RELEASE_ALONE,
}


def upgrade() -> None:
    for definition in FUNCTIONS.values():
        op.execute(definition)


def downgrade() -> None:
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
