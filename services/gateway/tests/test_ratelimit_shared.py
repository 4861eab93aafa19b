"""Limits shared by replicas through NATS: N per window across all of them, never more."""

from __future__ import annotations

import asyncio

from gateway_helpers import AccessTokens, StartGateway
from limits_helpers import statuses
from skiff_embedded import free_port
from skiff_gateway.ratelimit.store import Counter, SharedCounters


async def test_two_replicas_together_admit_at_most_n(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    headers = {"authorization": f"Bearer {access_tokens.mint(user_id='usr_burst')}"}
    async with (
        start_gateway(ratelimit_user_per_hour=10) as one,
        start_gateway(ratelimit_user_per_hour=10) as two,
    ):
        burst = await asyncio.gather(
            *((one if n % 2 else two).get("/api/v1/sessions", headers=headers) for n in range(30))
        )
        after = [await replica.get("/api/v1/sessions", headers=headers) for replica in (one, two)]

    assert statuses(burst).count(200) == 10
    assert statuses(burst).count(429) == 20
    assert statuses(after) == [429, 429]


async def test_a_replica_started_later_sees_what_the_others_spent(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    headers = {"authorization": f"Bearer {access_tokens.mint(user_id='usr_late')}"}
    async with start_gateway(ratelimit_user_per_hour=3) as first:
        spent = [await first.get("/api/v1/sessions", headers=headers) for _ in range(3)]
    async with start_gateway(ratelimit_user_per_hour=3) as later:
        refused = await later.get("/api/v1/sessions", headers=headers)

    assert statuses(spent) == [200, 200, 200]
    assert refused.status_code == 429


async def test_without_nats_each_replica_still_limits_on_its_own(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    # Fails open (the API stays up, a warning is logged) but keeps the limit per replica.
    headers = {"authorization": f"Bearer {access_tokens.mint(user_id='usr_alone')}"}
    nowhere = f"nats://127.0.0.1:{free_port()}"
    async with start_gateway(
        nats_url=nowhere,
        ratelimit_user_per_hour=2,
        ratelimit_start_wait_seconds=0.2,
        directory_start_timeout_seconds=0.2,
    ) as gateway:
        answers = [await gateway.get("/api/v1/sessions", headers=headers) for _ in range(3)]

    assert statuses(answers) == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-remaining"] == "1"


async def test_concurrent_leases_never_exceed_the_limit(nats_url: str) -> None:
    stores = [
        SharedCounters(nats_url, bucket="limits_test", ttl_seconds=120, timeout_seconds=5)
        for _ in range(3)
    ]
    for store in stores:
        await store.start(wait_seconds=5)
    try:

        async def lease_all(store: SharedCounters) -> int:
            granted, last = 0, None
            while True:
                grant = await store.lease("user.dXNy.1", limit=50, want=3, last=last)
                if grant.granted == 0:
                    return granted
                granted, last = granted + grant.granted, grant.counter

        totals = await asyncio.gather(*(lease_all(store) for store in stores for _ in range(4)))
        final = await stores[0].lease("user.dXNy.1", limit=50, want=1, last=None)
    finally:
        for store in stores:
            await store.stop()

    assert sum(totals) == 50
    assert final.granted == 0
    assert final.counter.value == 50


async def test_a_stale_counter_is_read_again_not_overwritten(nats_url: str) -> None:
    store = SharedCounters(nats_url, bucket="limits_stale", ttl_seconds=120, timeout_seconds=5)
    await store.start(wait_seconds=5)
    try:
        first = await store.lease("k.a.1", limit=10, want=4, last=None)
        second = await store.lease("k.a.1", limit=10, want=4, last=first.counter)
        # A replica still holding the first revision must not write 4 + 4 over 8.
        stale = await store.lease("k.a.1", limit=10, want=4, last=Counter(4, 1))
    finally:
        await store.stop()

    assert (first.granted, second.granted, stale.granted) == (4, 4, 2)
    assert stale.counter.value == 10
