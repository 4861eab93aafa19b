"""The in-process limiter on its own (no shared store: each replica limits by itself)."""

from __future__ import annotations

from skiff_gateway.ratelimit import Limiter, Limits, Policies, RateLimits, RouteRule
from skiff_kit.internal_token import Principal

USER = Principal(organization_id="org_1", user_id="usr_1", via="session")


async def test_a_window_admits_its_limit_then_refuses_until_the_next() -> None:
    policies = Policies(Limits(user_per_hour=3))
    limiter = Limiter(None)
    policy, caller = policies.of_caller(USER, "1.2.3.4", path="/api/v1/x", key_limit=None)
    start = 7200.0 * 1000  # the start of a window

    first = [(await limiter.take(policy, caller, start + n))[1] for n in range(4)]
    next_window = (await limiter.take(policy, caller, start + 3600))[1]

    assert first == [True, True, True, False]
    assert next_window is True


async def test_a_refused_route_gives_the_callers_token_back() -> None:
    rule = RouteRule(prefix="/api/v1/auth/login", limit=1, window_seconds=3600, name="login")
    limits = RateLimits(Policies(Limits(user_per_hour=10, routes=(rule,))), Limiter(None))

    allowed = await limits.check(USER, "1.2.3.4", path="/api/v1/auth/login", method="POST")
    refused = await limits.check(USER, "1.2.3.4", path="/api/v1/auth/login", method="POST")
    elsewhere = await limits.check(USER, "1.2.3.4", path="/api/v1/sessions", method="GET")

    assert allowed.refused is None
    assert refused.refused is not None
    assert refused.refused.policy.name == "login"
    # 10 - 1 (allowed) - 1 (elsewhere): the refused login did not count.
    assert elsewhere.buckets[0].remaining == 8


async def test_verdicts_are_values_not_the_buckets_latest_state() -> None:
    limits = RateLimits(Policies(Limits(user_per_hour=1)), Limiter(None))

    admitted = await limits.check(USER, "1.2.3.4", path="/api/v1/x", method="GET")
    refused = await limits.check(USER, "1.2.3.4", path="/api/v1/x", method="GET")

    assert admitted.refused is None  # still admitted after the same bucket refused another
    assert refused.refused is not None
    assert dict(refused.headers())[b"retry-after"] == b"%d" % refused.retry_after
