"""Per-endpoint isolation in one dispatcher: a concurrency cap and the endpoint's rate limit."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable


class TokenBucket:
    """`rate` sends per second, with a burst of one second's worth (at least one)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._clock = clock
        self._at = clock()

    def available(self) -> int:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self.tokens)

    def take(self, count: int) -> None:
        self.tokens -= count

    def seconds_to_next(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate)


class EndpointLimits:
    """How many more sends each endpoint may start now."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.in_flight: defaultdict[str, int] = defaultdict(int)
        self._buckets: dict[str, TokenBucket] = {}

    def room(self, endpoint_id: str, rate_limit: int | None) -> int:
        """Sends this endpoint may start now (concurrency left, within its rate limit)."""
        free = self.concurrency - self.in_flight[endpoint_id]
        bucket = self._bucket(endpoint_id, rate_limit)
        return max(0, min(free, bucket.available() if bucket else free))

    def started(self, endpoint_id: str, rate_limit: int | None, count: int = 1) -> None:
        self.in_flight[endpoint_id] += count
        bucket = self._bucket(endpoint_id, rate_limit)
        if bucket is not None:
            bucket.take(count)

    def finished(self, endpoint_id: str) -> None:
        self.in_flight[endpoint_id] -= 1
        if self.in_flight[endpoint_id] <= 0:
            del self.in_flight[endpoint_id]

    def rooms(self) -> dict[str, int]:
        """The room of every endpoint that has less than a fresh one (in flight, or limited)."""
        return {e: self.room(e, self._rate(e)) for e in {*self.in_flight, *self._buckets}}

    def _rate(self, endpoint_id: str) -> int | None:
        bucket = self._buckets.get(endpoint_id)
        return int(bucket.rate) if bucket is not None else None

    def seconds_to_room(self, rooms: dict[str, int]) -> float | None:
        """For endpoints that had no room: how soon a rate-limited one gets its next token.

        None when none of them is rate-limited (only full of sends: a finished send wakes the
        dispatcher) or when none had to wait.
        """
        waits = [
            self._buckets[e].seconds_to_next()
            for e, room in rooms.items()
            if room <= 0 and e in self._buckets
        ]
        return min(waits) if waits else None

    def _bucket(self, endpoint_id: str, rate_limit: int | None) -> TokenBucket | None:
        bucket = self._buckets.get(endpoint_id)
        if rate_limit is None:
            self._buckets.pop(endpoint_id, None)
            return None
        if bucket is None or bucket.rate != rate_limit:
            bucket = self._buckets[endpoint_id] = TokenBucket(rate_limit)
        return bucket
