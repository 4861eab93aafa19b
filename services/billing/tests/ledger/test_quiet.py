"""The fast paths' test: a change that crosses nothing leaves the rules quiet, any crossing not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from msgspec import structs
from skiff_billing.functions import AccountState
from skiff_billing.ledger.quiet import rules_stay_quiet
from skiff_billing.policy import Policy
from skiff_billing.settings import DEFAULT_PACKAGES
from skiff_billing.topup.guards import TopupSettings

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
POLICY = Policy(low_credit_threshold=50, packages=DEFAULT_PACKAGES)
TOPUP = TopupSettings(
    enabled=True,
    status="active",
    has_card=True,
    threshold_credits=100,
    package_id="pkg_1000",
    last_attempt_at=None,
)


def state(before: int, after: int, *, reserved: int = 0, notified: bool = False) -> AccountState:
    return AccountState(
        account_id="acc_1",
        balance_before=before,
        balance=after,
        reserved=reserved,
        low_credit_notified=notified,
        topup=None,
    )


def test_a_debit_well_above_every_mark_is_quiet() -> None:
    assert rules_stay_quiet(state(1_000, 999), POLICY, NOW, debit=True)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (state(60, 40), "falls below the low mark"),
        (state(1, 0), "exhausted"),
        (state(1_000, 999, notified=True), "back above the mark: the flag is cleared"),
        (state(1_000, 999, reserved=960), "a reservation takes available below the mark"),
    ],
)
def test_a_crossing_makes_the_rules_write(change: AccountState, why: str) -> None:
    assert not rules_stay_quiet(change, POLICY, NOW, debit=True), why


def test_below_the_mark_and_already_told_is_quiet() -> None:
    assert rules_stay_quiet(state(40, 39, notified=True), POLICY, NOW, debit=True)


def test_auto_top_up_below_its_threshold_writes_only_after_a_debit() -> None:
    below = structs.replace(state(99, 90), topup=TOPUP)  # above the low mark, below the top-up's
    assert not rules_stay_quiet(below, POLICY, NOW, debit=True)
    assert rules_stay_quiet(below, POLICY, NOW, debit=False)


def test_auto_top_up_in_its_cooldown_is_quiet() -> None:
    recent = replace(TOPUP, last_attempt_at=NOW - timedelta(seconds=10))
    cooling = structs.replace(state(99, 90), topup=recent)
    assert rules_stay_quiet(cooling, POLICY, NOW, debit=True)
