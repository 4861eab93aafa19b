"""A key the view has not heard of yet: asked of identity once, bounded, remembered negatively.

A key created a moment ago reaches the view through identity's outbox, the bus and the
directory bucket, some milliseconds after its creator got the raw key; a script that uses it
at once would be refused. So on a miss the gateway asks identity (`rpc.identity.apikeys.lookup`).
An unknown key must not become a free identity query for an attacker, so per replica:

- a miss found to be unknown is remembered for `negative_seconds` (at most `max_remembered`
  hashes, oldest forgotten first): the same wrong key costs nothing more meanwhile;
- at most `per_second` lookups start per second (a token bucket of that size) and at most
  four run at once; beyond that a miss is refused without asking. A lookup that finds the key
  gives its token back: the budget is spent only by keys that do not exist, so a script that
  creates and uses keys faster than `per_second` is not refused, while guessing stays bounded
  (a found key enters the view and is never asked about again);
- identity down or slow (`timeout`): the miss is refused (keys already known keep working).

What a lookup brings is offered to the view, which keeps the higher version: a lookup that
answers late never undoes a revocation the bucket already delivered.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

import structlog
from nats.aio.client import Client as NATS
from skiff_contracts.rpc.identity import API_KEY_LOOKUP_SUBJECT, ApiKeyLookup, ApiKeyLookupReply
from skiff_messaging.errors import RequestFailed
from skiff_messaging.rpc import request

from skiff_gateway.directory.view import DirectoryView

log = structlog.get_logger("skiff_gateway.directory")
_CONCURRENT = 4


class KeyLookup:
    """Looks up secret hashes the view does not know, within the limits above."""

    def __init__(
        self,
        view: DirectoryView,
        nats: Callable[[], NATS | None],
        *,
        per_second: float = 20.0,
        negative_seconds: float = 10.0,
        timeout: float = 0.5,
        max_remembered: int = 10_000,
    ) -> None:
        self.view = view
        self.nats = nats
        self.per_second = per_second
        self.negative_seconds = negative_seconds
        self.timeout = timeout
        self.max_remembered = max_remembered
        self.counts = {"asked": 0, "found": 0, "unknown": 0, "remembered": 0, "over_budget": 0}
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._tokens = per_second
        self._refilled = time.monotonic()
        self._slots = asyncio.Semaphore(_CONCURRENT)
        self._asking: dict[str, asyncio.Future[bool]] = {}

    async def find(self, secret_hash: str) -> bool:
        """True once the view knows `secret_hash` (it may have just been learned)."""
        if self.view.key(secret_hash) is not None:
            return True
        now = time.monotonic()
        until = self._unknown.get(secret_hash)
        if until is not None and until > now:
            self.counts["remembered"] += 1
            return False
        asking = self._asking.get(secret_hash)
        if asking is not None:  # a concurrent request with the same key: one lookup
            return await asyncio.shield(asking)
        if not self._take(now):
            self.counts["over_budget"] += 1
            return False
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asking[secret_hash] = future
        try:
            found = await self._ask(secret_hash)
            if found:
                self._give_back()
            future.set_result(found)
            return found
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._asking[secret_hash]

    def _take(self, now: float) -> bool:
        """A token of the per-second budget, if one is left."""
        self._tokens = min(self.per_second, self._tokens + (now - self._refilled) * self.per_second)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _give_back(self) -> None:
        """The token of a lookup that found its key: real keys do not spend the budget."""
        self._tokens = min(self.per_second, self._tokens + 1)

    async def _ask(self, secret_hash: str) -> bool:
        nats = self.nats()
        if nats is None:
            return False
        self.counts["asked"] += 1
        try:
            async with self._slots:
                reply = await request(
                    nats,
                    API_KEY_LOOKUP_SUBJECT,
                    ApiKeyLookup(secret_hash=secret_hash),
                    ApiKeyLookupReply,
                    timeout=self.timeout,
                )
        except RequestFailed as error:
            log.warning("api key lookup failed", error=str(error))
            return False
        if reply.state is None:
            self.counts["unknown"] += 1
            self._remember_unknown(secret_hash)
            return False
        self.counts["found"] += 1
        self.view.offer(reply.state)
        return self.view.key(secret_hash) is not None

    def _remember_unknown(self, secret_hash: str) -> None:
        self._unknown[secret_hash] = time.monotonic() + self.negative_seconds
        self._unknown.move_to_end(secret_hash)
        while len(self._unknown) > self.max_remembered:
            self._unknown.popitem(last=False)
