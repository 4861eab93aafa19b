"""The SQL `rules_stay_quiet` (migration 0006) answers as `ledger.quiet.rules_stay_quiet` does,
for any account state, auto top-up settings and policy: the fast hold calls commit alone
exactly when the Python rules would write nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skiff_billing.functions import AccountState
from skiff_billing.holds.alone import rules_arguments
from skiff_billing.ledger.quiet import rules_stay_quiet
from skiff_billing.policy import Policy
from skiff_billing.settings import DEFAULT_PACKAGES
from skiff_billing.topup.guards import ACTIVE, DISABLED, TopupSettings

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
QUIET = "SELECT rules_stay_quiet($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
credits = st.integers(-30, 130)  # around the marks below, zero and negative balances included

topups = st.none() | st.builds(
    TopupSettings,
    enabled=st.booleans(),
    status=st.sampled_from([ACTIVE, DISABLED]),
    has_card=st.booleans(),
    threshold_credits=st.integers(0, 120),
    package_id=st.sampled_from([p.id for p in DEFAULT_PACKAGES] + ["pkg_withdrawn"]),
    last_attempt_at=st.none()
    | st.integers(-5, 1_300).map(lambda seconds: NOW - timedelta(seconds=seconds)),
)
states = st.builds(
    AccountState,
    account_id=st.just("acc_1"),
    balance_before=credits,
    balance=credits,
    reserved=st.integers(0, 130),
    low_credit_notified=st.booleans(),
    topup=topups,
)
policies = st.builds(
    Policy,
    low_credit_threshold=st.integers(0, 100),
    packages=st.sampled_from([(), DEFAULT_PACKAGES, DEFAULT_PACKAGES[:1]]),
    autotopup_cooldown_seconds=st.sampled_from([0, 600, 1_200]),
)


def test_the_sql_predicate_agrees_with_the_python_rules(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = loop.run_until_complete(
        asyncpg.connect(dsn, server_settings={"search_path": "billing"})
    )

    def in_sql(state: AccountState, policy: Policy, debit: bool) -> bool:
        topup = state.topup
        row = (
            state.balance_before,
            state.balance,
            state.reserved,
            state.low_credit_notified,
            topup and topup.enabled,
            topup and topup.status,
            topup and topup.has_card,
            topup and topup.threshold_credits,
            topup and topup.package_id,
            topup and topup.last_attempt_at,
            debit,
        )
        answer = loop.run_until_complete(
            connection.fetchval(QUIET, *row, *rules_arguments(policy), NOW)
        )
        assert isinstance(answer, bool)
        return answer

    @settings(max_examples=1_500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(state=states, policy=policies, debit=st.booleans())
    def agree(state: AccountState, policy: Policy, debit: bool) -> None:
        expected = rules_stay_quiet(state, policy, NOW, debit=debit)
        assert in_sql(state, policy, debit) == expected

    try:
        agree()
    finally:
        loop.run_until_complete(connection.close())
        loop.close()
