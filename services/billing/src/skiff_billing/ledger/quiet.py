"""Whether a change of an account leaves the rules with nothing to write: the fast paths' test.

After a debit or a reservation, the rules may write: `billing.credits.low` or
`.exhausted` (ledger.thresholds), the account's `low_credit_notified` flag, an auto top-up
attempt (topup.service). Most changes cross nothing, and a hot path that can tell so from the
account's state alone may commit without the session those rules need; when this says the
rules will write, the hot path takes the full road instead.
"""

from __future__ import annotations

from datetime import datetime

from skiff_billing.functions import AccountState
from skiff_billing.ledger.thresholds import crossings
from skiff_billing.policy import Policy
from skiff_billing.topup.guards import package_to_buy


def rules_stay_quiet(state: AccountState, policy: Policy, now: datetime, *, debit: bool) -> bool:
    """True when no rule writes anything after this change (`debit`: it lowered `available`,
    so the auto top-up check runs too)."""
    crossed = crossings(
        balance_before=state.balance_before,
        balance=state.balance,
        reserved=state.reserved,
        low_credit_notified=state.low_credit_notified,
        low_mark=policy.low_credit_threshold,
    )
    if crossed.exhausted or crossed.low or crossed.low_credit_notified != state.low_credit_notified:
        return False
    return not debit or package_to_buy(state.topup, state.available, policy, now) is None
