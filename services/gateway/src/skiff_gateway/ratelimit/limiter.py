"""The in-process limiter: decides in microseconds from tokens leased from the shared counters.

Each bucket (policy x caller) keeps, for the current fixed window, the tokens this replica
has leased and not used yet. A request spends one; only when none are left does the replica
lease more from the shared counter (one KV round trip, shared by every request waiting on
that bucket). When the shared counter is at the limit the bucket is exhausted until the
window ends, so refusals are as cheap as admissions.
"""

from __future__ import annotations

import asyncio
import base64
import time

from skiff_kit.logging import get_logger

from skiff_gateway.ratelimit.policy import Policy
from skiff_gateway.ratelimit.store import Contended, Counter, SharedCounters, StoreUnavailable

_SWEEP_SECONDS = 30.0
_WARN_EVERY_SECONDS = 10.0
_log = get_logger("skiff.gateway.ratelimit")


class Bucket:
    """One caller's state under one policy in one window, on this replica."""

    __slots__ = (
        "admitted",
        "counter",
        "exhausted",
        "lease",
        "leased_at",
        "pending",
        "policy",
        "seen",
        "tokens",
        "window",
    )

    def __init__(self, policy: Policy, window: int) -> None:
        self.policy = policy
        self.window = window
        self.tokens = 0  # leased to this replica and not spent yet
        self.seen = 0  # the shared counter after this replica's last lease
        self.counter: Counter | None = None
        self.exhausted = False
        self.admitted = 0
        self.lease = 1
        self.leased_at = 0.0
        self.pending: asyncio.Future[None] | None = None

    @property
    def remaining(self) -> int:
        """What is left of the window, as far as this replica knows."""
        return max(0, self.policy.limit - self.seen + self.tokens)

    @property
    def reset(self) -> int:
        """When the window ends (unix seconds)."""
        return (self.window + 1) * self.policy.window


Decision = tuple[Bucket, bool]
"""A bucket and whether this request was admitted by it."""


class Limiter:
    """Rate-limit decisions of one gateway replica over the counters all replicas share."""

    def __init__(self, store: SharedCounters | None, *, max_lease: int = 100) -> None:
        self.store = store
        self.max_lease = max(1, max_lease)
        self.buckets: dict[str, Bucket] = {}
        self._swept = time.monotonic()
        self._warned = 0.0
        self._prefetching: set[asyncio.Task[None]] = set()

    def try_take(self, policy: Policy, caller: str, now: float) -> Decision | None:
        """(bucket, admitted) from the tokens this replica holds, or None when a lease is
        needed first (then call `take`)."""
        key = policy.name + "|" + caller
        bucket = self.buckets.get(key)
        window = int(now) // policy.window
        if bucket is None or bucket.window != window or bucket.policy is not policy:
            bucket = self.buckets[key] = Bucket(policy, window)
        if bucket.tokens > 0:
            bucket.tokens -= 1
            bucket.admitted += 1
            if bucket.tokens == bucket.lease >> 2 and bucket.lease >= 8 and not bucket.pending:
                # A busy bucket: lease the next tokens before these run out.
                task = asyncio.ensure_future(self._refill(key, bucket))
                self._prefetching.add(task)
                task.add_done_callback(self._prefetching.discard)
            return bucket, True
        if bucket.exhausted:
            return bucket, False
        return None

    async def take(self, policy: Policy, caller: str, now: float) -> Decision:
        """Spend one token, leasing from the shared counter when this replica has none.

        Each lease either brings tokens or finds the window spent (then the bucket refuses
        until it ends), so the loop ends; a request never passes without a token.
        """
        key = policy.name + "|" + caller
        while True:
            decision = self.try_take(policy, caller, now)
            if decision is not None:
                return decision
            await self._refill(key, self.buckets[key])

    async def _refill(self, key: str, bucket: Bucket) -> None:
        """Lease tokens for `bucket` (one lease at a time; others wait for it)."""
        if bucket.pending is not None:
            await asyncio.shield(bucket.pending)
            return
        done = bucket.pending = asyncio.get_running_loop().create_future()
        try:
            await self._lease(key, bucket)
        finally:
            bucket.pending = None
            done.set_result(None)
        self._sweep()

    async def _lease(self, key: str, bucket: Bucket) -> None:
        policy = bucket.policy
        now = time.monotonic()
        if bucket.leased_at and now - bucket.leased_at < 1.0:
            cap = max(1, min(self.max_lease, policy.limit // 10))
            bucket.lease = min(cap, bucket.lease * 2)
        try:
            if self.store is None:
                raise StoreUnavailable("no shared store configured")
            grant = await self.store.lease(
                _store_key(key, bucket.window),
                limit=policy.limit,
                want=bucket.lease,
                last=bucket.counter,
            )
        except Contended:
            return  # the next turn of `take` leases again
        except StoreUnavailable as error:
            self._local(bucket, str(error))
            return
        bucket.counter = grant.counter
        bucket.seen = grant.counter.value
        bucket.tokens += grant.granted
        bucket.leased_at = now
        if grant.granted == 0:
            bucket.exhausted = True

    def _local(self, bucket: Bucket, reason: str) -> None:
        """Fail open: without the shared store, this replica enforces the limit on its own."""
        allowance = bucket.policy.limit - bucket.admitted - bucket.tokens
        if allowance > 0:
            bucket.tokens += allowance
        else:
            bucket.exhausted = True
        bucket.seen = bucket.admitted + bucket.tokens
        if self.store is not None and time.monotonic() - self._warned > _WARN_EVERY_SECONDS:
            self._warned = time.monotonic()
            _log.warning("ratelimit_store_unavailable", reason=reason, fallback="local")

    def _sweep(self) -> None:
        """Forget buckets of windows that have ended (at most every 30 s)."""
        if time.monotonic() - self._swept < _SWEEP_SECONDS:
            return
        self._swept = time.monotonic()
        now = int(time.time())
        stale = [
            key
            for key, bucket in self.buckets.items()
            if bucket.reset <= now and bucket.pending is None
        ]
        for key in stale:
            del self.buckets[key]


def _store_key(key: str, window: int) -> str:
    """A KV key (letters, digits, `-_=.` only): policy, encoded caller, window."""
    name, _, caller = key.partition("|")
    encoded = base64.urlsafe_b64encode(caller.encode()).decode().rstrip("=")
    return f"{name}.{encoded}.{window}"
