"""Rate limits as API.md says: per key, per user, per address, per route; headers; 429."""

from __future__ import annotations

import asyncio
import json
import time

from directory_helpers import Identity, key_state, raw_key
from gateway_helpers import AccessTokens, Gateway, StartGateway, assert_error
from limits_helpers import clear_of_window_edge, limit_headers, statuses


def bearer(access_tokens: AccessTokens, **claims: str) -> dict[str, str]:
    return {"authorization": f"Bearer {access_tokens.mint(**claims)}"}  # type: ignore[arg-type]


async def known_key(gateway: Gateway, raw: str) -> None:
    """Wait until the gateway's directory has the key (identity's event went through)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = await gateway.get("/api/v1/sessions/probe", headers={"x-api-key": raw})
        if response.status_code not in (401, 503):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never learned the key")


async def test_every_answer_carries_the_limit_headers(
    gateway: Gateway, access_tokens: AccessTokens
) -> None:
    headers = bearer(access_tokens, user_id="usr_headers")

    first = await gateway.get("/api/v1/sessions", headers=headers)
    second = await gateway.get("/api/v1/sessions", headers=headers)

    hour_end = (int(time.time()) // 3600 + 1) * 3600
    seen = limit_headers(first)
    assert seen["x-ratelimit-limit"] == "1000"
    assert seen["x-ratelimit-remaining"] == "999"
    assert seen["x-ratelimit-reset"] == str(hour_end)
    assert seen["ratelimit-policy"] == '"user";q=1000;w=3600'
    assert seen["ratelimit"].startswith('"user";r=999;t=')
    assert 0 < int(seen["ratelimit"].rsplit("t=", 1)[1]) <= 3600
    assert limit_headers(second)["x-ratelimit-remaining"] == "998"
    assert "retry-after" not in first.headers


async def test_past_the_limit_a_429_says_when_to_retry(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    headers = bearer(access_tokens, user_id="usr_busy")
    async with start_gateway(ratelimit_user_per_hour=3) as gateway:
        answers = [await gateway.get("/api/v1/sessions", headers=headers) for _ in range(4)]

    assert statuses(answers) == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    body = assert_error(refused, 429, "rate_limited")
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= 3600
    assert body["details"]["limit"] == 3
    assert body["details"]["policy"] == "user"
    assert body["details"]["retry_after"] == retry_after
    assert refused.headers["x-ratelimit-reset"] == str(body["details"]["reset"])
    assert "x-upstream" not in refused.headers  # refused at the door


async def test_users_do_not_share_a_bucket(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    async with start_gateway(ratelimit_user_per_hour=1) as gateway:
        ada = await gateway.get("/api/v1/sessions", headers=bearer(access_tokens, user_id="usr_a"))
        bob = await gateway.get("/api/v1/sessions", headers=bearer(access_tokens, user_id="usr_b"))
        ada_again = await gateway.get(
            "/api/v1/sessions", headers=bearer(access_tokens, user_id="usr_a")
        )

    assert statuses([ada, bob, ada_again]) == [200, 200, 429]


async def test_anonymous_routes_are_limited_per_address(start_gateway: StartGateway) -> None:
    async with start_gateway(ratelimit_anonymous_per_hour=2) as gateway:
        answers = [await gateway.post("/api/v1/auth/login", json={}) for _ in range(3)]

    assert statuses(answers) == [200, 200, 429]


async def test_an_address_may_make_100_anonymous_requests_an_hour(gateway: Gateway) -> None:
    answer = await gateway.post("/api/v1/auth/login", json={})

    assert limit_headers(answer)["x-ratelimit-limit"] == "100"
    assert limit_headers(answer)["ratelimit-policy"] == '"ip";q=100;w=3600'


async def test_failed_sign_ins_spend_the_addresss_quota(start_gateway: StartGateway) -> None:
    # Guessing credentials from one address is an anonymous caller's work, limited as such.
    async with start_gateway(ratelimit_anonymous_per_hour=2) as gateway:
        answers = [
            await gateway.get("/api/v1/sessions", headers={"authorization": "Bearer guess"})
            for _ in range(3)
        ]

    assert statuses(answers) == [401, 401, 429]
    assert answers[0].headers["x-ratelimit-remaining"] == "1"
    assert_error(answers[2], 429, "rate_limited")


async def test_probing_for_routes_spends_the_addresss_quota(start_gateway: StartGateway) -> None:
    async with start_gateway(ratelimit_anonymous_per_hour=2) as gateway:
        answers = [await gateway.get(f"/api/v1/nothing-{n}") for n in range(3)]

    assert statuses(answers) == [404, 404, 429]
    assert answers[1].headers["x-ratelimit-remaining"] == "0"


async def test_a_keys_own_limit_overrides_the_default(
    start_gateway: StartGateway, nats_url: str
) -> None:
    plain, limited = raw_key(), raw_key()
    await Identity(nats_url).publish(
        key_state(plain, key_id="key_plain"),
        key_state(limited, key_id="key_limited", rate_limit_per_minute=2),
    )
    await clear_of_window_edge(60, margin=15)
    async with start_gateway(ratelimit_key_burst=1) as gateway:
        await known_key(gateway, plain)
        await known_key(gateway, limited)
        default = await gateway.get("/api/v1/sessions", headers={"x-api-key": plain})
        answers = [
            await gateway.get("/api/v1/sessions", headers={"x-api-key": limited}) for _ in range(3)
        ]

    assert limit_headers(default)["ratelimit-policy"] == '"key";q=101;w=60'  # 100 + burst 1
    # The probe that saw the key spent one of its 2 + 1: two more pass, then 429.
    assert statuses(answers) == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit"] == "3"
    assert int(answers[2].headers["retry-after"]) <= 60


async def test_settings_set_every_default(
    start_gateway: StartGateway, nats_url: str, access_tokens: AccessTokens
) -> None:
    raw = raw_key()
    await Identity(nats_url).publish(key_state(raw, key_id="key_demo"))
    demo = {
        "ratelimit_key_per_minute": 5000,
        "ratelimit_key_burst": 0,
        "ratelimit_user_per_hour": 7000,
        "ratelimit_anonymous_per_hour": 900,
        "ratelimit_webhooks_per_minute": 50,
    }
    async with start_gateway(**demo) as gateway:
        await known_key(gateway, raw)
        key = await gateway.get("/api/v1/sessions", headers={"x-api-key": raw})
        user = await gateway.get("/api/v1/sessions", headers=bearer(access_tokens))
        anonymous = await gateway.post("/api/v1/auth/register", json={})
        webhook = await gateway.post("/webhooks/stripe", json={})

    assert key.headers["ratelimit-policy"] == '"key";q=5000;w=60'
    assert user.headers["ratelimit-policy"] == '"user";q=7000;w=3600'
    assert anonymous.headers["ratelimit-policy"] == '"ip";q=900;w=3600'
    assert webhook.headers["ratelimit-policy"] == '"webhooks";q=50;w=60'


async def test_an_organizations_multiplier_scales_its_limits(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    organizations = json.dumps({"org_big": 10, "org_small": 0.5})
    async with start_gateway(
        ratelimit_user_per_hour=20, ratelimit_organizations=organizations
    ) as gateway:
        big = await gateway.get(
            "/api/v1/sessions", headers=bearer(access_tokens, organization_id="org_big")
        )
        small = await gateway.get(
            "/api/v1/sessions",
            headers=bearer(access_tokens, user_id="usr_s", organization_id="org_small"),
        )
        other = await gateway.get(
            "/api/v1/sessions",
            headers=bearer(access_tokens, user_id="usr_o", organization_id="org_other"),
        )

    assert [r.headers["x-ratelimit-limit"] for r in (big, small, other)] == ["200", "10", "20"]


async def test_a_route_limit_applies_on_top_of_the_callers(start_gateway: StartGateway) -> None:
    routes = json.dumps(
        [{"prefix": "/api/v1/auth/login", "limit": 2, "window_seconds": 3600, "name": "login"}]
    )
    async with start_gateway(ratelimit_routes=routes) as gateway:
        logins = [await gateway.post("/api/v1/auth/login", json={}) for _ in range(3)]
        register = await gateway.post("/api/v1/auth/register", json={})

    assert statuses(logins) == [200, 200, 429]
    assert logins[0].headers["ratelimit-policy"] == '"ip";q=100;w=3600, "login";q=2;w=3600'
    assert logins[1].headers["x-ratelimit-limit"] == "2"  # the tighter of the two
    assert assert_error(logins[2], 429, "rate_limited")["details"]["policy"] == "login"
    assert register.status_code == 200
    # The refused login did not count against the address's own quota.
    assert register.headers["ratelimit"].startswith('"ip";r=97;')


async def test_limits_can_be_turned_off(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    async with start_gateway(ratelimit_enabled=False, ratelimit_user_per_hour=1) as gateway:
        answers = [
            await gateway.get("/api/v1/sessions", headers=bearer(access_tokens)) for _ in range(3)
        ]

    assert statuses(answers) == [200, 200, 200]
    assert limit_headers(answers[0]) == {}
