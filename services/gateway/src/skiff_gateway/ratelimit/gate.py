"""The door's rate limiting: the buckets of a request, the verdict, and the headers it answers."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from skiff_kit.internal_token import Principal

from skiff_gateway.ratelimit.limiter import Bucket, Decision, Limiter
from skiff_gateway.ratelimit.policy import Policies
from skiff_gateway.ratelimit.store import SharedCounters

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class Verdict:
    """The buckets a request spent from, and the one that refused it (if any)."""

    buckets: list[Bucket]
    refused: Bucket | None
    now: float

    @property
    def tightest(self) -> Bucket:
        """The bucket the `X-RateLimit-*` headers describe: the refusing or the emptiest one."""
        if self.refused is not None:
            return self.refused
        return min(self.buckets, key=lambda bucket: bucket.remaining)

    @property
    def retry_after(self) -> int:
        """Whole seconds until the refusing bucket's window ends (at least 1)."""
        bucket = self.tightest
        return max(1, math.ceil(bucket.reset - self.now))

    def headers(self) -> Headers:
        """`X-RateLimit-*` of the tightest bucket, IETF `RateLimit-Policy`/`RateLimit` of all."""
        tight = self.tightest
        now = int(self.now)
        if len(self.buckets) == 1:  # the usual case, without the joins
            policies = tight.policy.item_bytes
            remaining = 0 if self.refused is not None else tight.remaining
            reset = tight.reset
            states = b'"%b";r=%d;t=%d' % (tight.policy.name_bytes, remaining, reset - now)
        else:
            remaining = 0 if self.refused is not None else tight.remaining
            reset = tight.reset
            policies = b", ".join(bucket.policy.item_bytes for bucket in self.buckets)
            states = b", ".join(
                b'"%b";r=%d;t=%d'
                % (
                    bucket.policy.name_bytes,
                    0 if bucket is self.refused else bucket.remaining,
                    bucket.reset - now,
                )
                for bucket in self.buckets
            )
        headers = [
            (b"x-ratelimit-limit", tight.policy.limit_bytes),
            (b"x-ratelimit-remaining", b"%d" % remaining),
            (b"x-ratelimit-reset", b"%d" % reset),
            (b"ratelimit-policy", policies),
            (b"ratelimit", states),
        ]
        if self.refused is not None:
            headers.append((b"retry-after", b"%d" % self.retry_after))
        return headers

    def details(self) -> dict[str, object]:
        """What a 429 says in `details`."""
        tight = self.tightest
        return {
            "policy": tight.policy.name,
            "limit": tight.policy.limit,
            "window_seconds": tight.policy.window,
            "reset": tight.reset,
            "retry_after": self.retry_after,
        }


class RateLimits:
    """Takes one request from each bucket that applies; refuses if any bucket is empty."""

    def __init__(self, policies: Policies, limiter: Limiter) -> None:
        self.policies = policies
        self.limiter = limiter

    @property
    def store(self) -> SharedCounters | None:
        return self.limiter.store

    async def check(
        self,
        principal: Principal,
        client_ip: str,
        *,
        path: str,
        method: str,
        key_limit: int | None = None,
    ) -> Verdict:
        """Spend from the caller's bucket and any route buckets; the verdict says if allowed."""
        now = time.time()
        policy, caller = self.policies.of_caller(
            principal, client_ip, path=path, key_limit=key_limit
        )
        limiter = self.limiter
        decision = limiter.try_take(policy, caller, now) or await limiter.take(policy, caller, now)
        decisions = [decision]
        for route_policy in self.policies.of_route(path, method):
            spent = limiter.try_take(route_policy, caller, now)
            decisions.append(spent or await limiter.take(route_policy, caller, now))
        return _verdict(decisions, now)


def _verdict(decisions: Sequence[Decision], now: float) -> Verdict:
    refused = next((bucket for bucket, admitted in decisions if not admitted), None)
    if refused is not None:
        for bucket, admitted in decisions:  # a refused request counts against none of them
            if admitted:
                bucket.tokens += 1
                bucket.admitted -= 1
    return Verdict([bucket for bucket, _ in decisions], refused, now)
