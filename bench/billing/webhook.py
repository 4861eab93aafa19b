"""Stripe webhook received → the new balance visible through the gateway, on a real stack.

Each sample starts a checkout through the gateway (not timed), then presses Pay on the Stripe
stand-in's hosted page (its own process, as `skiff up` runs it): the stand-in sends
`checkout.session.completed` and `payment_intent.succeeded`, signed, through the gateway to
billing. The clock starts before the press, so the stand-in's own handling of the press counts
against us, and stops when a `GET /api/v1/credits/balance` through the gateway answers the
new balance (polled back to back). Baseline in the same run: that GET alone.
"""

from __future__ import annotations

import asyncio
import time

import httpx

POLL_SECONDS = 0.001
# Between samples: the second webhook of a payment (a no-op by then) lands before the next.
SETTLE_SECONDS = 0.1


async def balance(client: httpx.AsyncClient) -> int | None:
    """The organization's credits, or None while billing has not opened its account."""
    answer = await client.get("/api/v1/credits/balance")
    return int(answer.json()["credits"]) if answer.status_code == 200 else None


async def opened(client: httpx.AsyncClient) -> int:
    """Wait for billing to open the new organization's account; its balance."""
    for _ in range(600):
        credits = await balance(client)
        if credits is not None:
            return credits
        await asyncio.sleep(0.05)
    raise RuntimeError("billing did not open the account within 30 s")


async def webhook_to_balance(
    client: httpx.AsyncClient, samples: int, warm_up: int = 5
) -> tuple[list[float], list[float]]:
    """Seconds per (Pay pressed → new balance read through the gateway, one balance GET)."""
    paid: list[float] = []
    reads: list[float] = []
    credits = await opened(client)
    async with httpx.AsyncClient(timeout=30) as browser:
        for n in range(-warm_up, samples):
            started = await client.post("/api/v1/billing/checkout", json={"package_id": "pkg_1000"})
            started.raise_for_status()
            url = started.json()["url"].replace("//localhost:", "//127.0.0.1:")
            credits += 1000
            began = time.perf_counter()
            pressed = await browser.post(url, data={"action": "pay"})
            if pressed.status_code != 303:
                raise RuntimeError(f"the stand-in answered {pressed.status_code} to Pay")
            while True:
                asked = time.perf_counter()
                seen = await balance(client)
                answered = time.perf_counter()
                if n >= 0:
                    reads.append(answered - asked)
                if seen == credits:
                    break
                await asyncio.sleep(POLL_SECONDS)
            if n >= 0:
                paid.append(answered - began)
            await asyncio.sleep(SETTLE_SECONDS)
    return paid, reads
