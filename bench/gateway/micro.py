"""Microbenchmarks of the door's in-process steps: a rate-limit decision, a key lookup, an
access token (verified, then remembered), and the kit's request-context middleware."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from skiff_gateway.authentication import Authenticator
from skiff_gateway.ratelimit import Limiter, Limits, Policies
from skiff_gateway.ratelimit.gate import Verdict
from skiff_kit.internal_token import Principal
from skiff_kit.logging import configure_logging
from skiff_kit.request_context import RequestContextMiddleware


def per_call_ns(call: Callable[[], Any], iterations: int, rounds: int = 5) -> float:
    """The best of `rounds` mean times of `call`, in nanoseconds (loop overhead included)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(iterations):
            call()
        best = min(best, (time.perf_counter_ns() - started) / iterations)
    return best


def ratelimit_decision_ns(iterations: int = 100_000) -> tuple[float, float]:
    """(decision, decision + headers) in ns: the caller's policy, then one token spent.

    The bucket holds a lease already (as a busy key's does), so this is the path nearly every
    request takes; a lease from NATS happens once per lease, off this path.
    """
    policies = Policies(Limits(key_per_minute=10**12))
    limiter = Limiter(None)  # no store: the first lease is local (the same in-process path)
    principal = Principal(organization_id="org_bench", api_key_id="key_bench", via="api_key")
    path = "/api/v1/sessions/ping"
    policy, caller = policies.of_caller(principal, "127.0.0.1", path=path, key_limit=None)
    # One window for the whole measurement (a real decision reads the clock: so does this).
    window_start = time.time() // 60 * 60
    asyncio.run(limiter.take(policy, caller, window_start))

    def decide() -> Any:
        now = window_start + time.time() % 1
        policy, caller = policies.of_caller(principal, "127.0.0.1", path=path, key_limit=None)
        return limiter.try_take(policy, caller, now)

    def decide_and_answer() -> Any:
        bucket, _ = decide()
        return Verdict([bucket], None, window_start).headers()

    assert decide()[1]
    return per_call_ns(decide, iterations), per_call_ns(decide_and_answer, iterations)


def key_lookup_ns(authenticator: Authenticator, headers: dict[str, str], iterations: int) -> float:
    """One `Authenticator.authenticate` of these credentials, as the door calls it."""
    path = "/api/v1/sessions/ping"

    def authenticate() -> Any:
        return authenticator.authenticate(headers, path=path, request_id="req_bench")

    authenticate()
    return per_call_ns(authenticate, iterations)


def request_context_ns(level: str, iterations: int = 5_000) -> float:
    """What `RequestContextMiddleware` adds to one request (ASGI calls, no network), with
    logging configured at `level` and written to /dev/null (the line is built, not shown)."""
    configure_logging(service="bench", log_format="json", level=level)
    with open(os.devnull, "w") as sink:
        for handler in logging.getLogger().handlers:
            if handler.get_name() == "skiff" and isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)
        wrapped = RequestContextMiddleware(_answer)
        bare = asyncio.run(_per_request_ns(_answer, iterations))
        with_context = asyncio.run(_per_request_ns(wrapped, iterations))
    configure_logging(service="bench", log_format="json", level="warning")
    return max(0.0, with_context - bare)


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _per_request_ns(app: Any, iterations: int, rounds: int = 5) -> float:
    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(iterations):
            scope = {"type": "http", "method": "GET", "path": "/api/v1/sessions/ping"}
            await app({**scope, "headers": [(b"host", b"bench")], "state": {}}, receive, send)
        best = min(best, (time.perf_counter_ns() - started) / iterations)
    return best
