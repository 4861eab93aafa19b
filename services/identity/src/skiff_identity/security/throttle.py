"""Brute-force back-off: each attempt is counted atomically *before* it is tried.

An attempt first claims a slot with one `INSERT ... ON CONFLICT DO UPDATE ... WHERE not
blocked RETURNING` on its (kind, key) row. The row lock serialises parallel claims, so after
`max_failures` claims the row is blocked and every further claim, right password or not, gets
no row back (429) until `blocked_until`. A success gives its slot back (`forgive`/`refund`).
Each block after the first doubles, up to `max_block_seconds`; `window_seconds` of quiet after
the last attempt (or the end of the last block) start the count again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from skiff_kit.errors import TooManyRequests
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.security.policy import ThrottleRule

_FAILURES = (
    "CASE WHEN coalesce(t.blocked_until, t.updated_at) < CAST(:stale AS timestamptz)"
    " THEN 1 ELSE t.failures + 1 END"
)
_CLAIM = text(
    f"""
    INSERT INTO login_throttle AS t (kind, key, failures, blocked_until, updated_at)
    VALUES (:kind, :key, 1, CAST(:first_block AS timestamptz), CAST(:now AS timestamptz))
    ON CONFLICT (kind, key) DO UPDATE SET
        failures = {_FAILURES},
        blocked_until = CASE WHEN {_FAILURES} >= CAST(:max AS integer)
            THEN CAST(:now AS timestamptz) + make_interval(secs => least(
                CAST(:cap AS double precision),
                CAST(:base AS double precision)
                * power(2, least({_FAILURES} - CAST(:max AS integer), 30))
            )) END,
        updated_at = CAST(:now AS timestamptz)
    WHERE t.blocked_until IS NULL OR t.blocked_until <= CAST(:now AS timestamptz)
    RETURNING failures
    """  # noqa: S608 (a constant fragment, no input)
)
_BLOCKED_UNTIL = text("SELECT blocked_until FROM login_throttle WHERE kind = :kind AND key = :key")
_REFUND = text(
    """
    UPDATE login_throttle SET
        failures = greatest(failures - 1, 0),
        blocked_until = CASE WHEN failures - 1 >= CAST(:max AS integer) THEN blocked_until END
    WHERE kind = :kind AND key = :key
    """
)
_FORGIVE = text("DELETE FROM login_throttle WHERE kind = :kind AND key = :key")


class TooManyAttempts(TooManyRequests):
    """429 `too_many_attempts`; `retry_after` seconds also go out as the `Retry-After` header."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(
            f"Too many attempts. Try again in {retry_after} seconds.",
            details={"retry_after": retry_after, "scope": scope},
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Claim:
    """One counted attempt: the rule, the key and the failures counted so far (this one too)."""

    rule: ThrottleRule
    key: str
    failures: int


async def claim(
    session: AsyncSession, checks: list[tuple[ThrottleRule, str]], *, now: datetime
) -> list[Claim]:
    """Count one attempt against every (rule, key), or raise TooManyAttempts counting none."""
    claims: list[Claim] = []
    for rule, key in sorted(checks, key=lambda check: (check[0].kind, check[1])):
        first_block = (
            now + timedelta(seconds=rule.block_seconds) if rule.max_failures <= 1 else None
        )
        failures = await session.scalar(
            _CLAIM,
            {
                "kind": rule.kind,
                "key": key,
                "now": now,
                "first_block": first_block,
                "stale": now - timedelta(seconds=rule.window_seconds),
                "max": rule.max_failures,
                "cap": float(rule.max_block_seconds),
                "base": float(rule.block_seconds),
            },
        )
        if failures is None:
            for earlier in claims:  # an attempt refused by one rule counts against none
                await refund(session, earlier)
            blocked_until = await session.scalar(_BLOCKED_UNTIL, {"kind": rule.kind, "key": key})
            wait = (blocked_until - now).total_seconds() if blocked_until else 1.0
            raise TooManyAttempts(max(1, math.ceil(wait)), scope=rule.kind)
        claims.append(Claim(rule, key, int(failures)))
    return claims


async def refund(session: AsyncSession, counted: Claim) -> None:
    """Give back one attempt (it succeeded), lifting a block it alone had caused."""
    await session.execute(
        _REFUND, {"kind": counted.rule.kind, "key": counted.key, "max": counted.rule.max_failures}
    )


async def forgive(session: AsyncSession, rule: ThrottleRule, key: str) -> None:
    """Forget every attempt of this key (an account that just signed in or reset)."""
    await session.execute(_FORGIVE, {"kind": rule.kind, "key": key})
