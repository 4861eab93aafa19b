"""API keys end to end: made in identity, honoured by the gateway, counted back into identity;
and an `Idempotency-Key` retry of their creation makes one key."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from skiff_cli.supervisor import Stack

from tests.conftest import eventually
from tests.users import bearer, register


async def test_a_retried_create_with_the_same_key_makes_one_api_key(
    gateway: httpx.AsyncClient,
) -> None:
    user = await register(gateway, "Retrier")
    auth = {**await bearer(gateway, user["user"]["email"]), "idempotency-key": "create-ci-key"}

    first = await gateway.post("/api/v1/api-keys", json={"name": "ci"}, headers=auth)
    again = await gateway.post("/api/v1/api-keys", json={"name": "ci"}, headers=auth)
    other = await gateway.post("/api/v1/api-keys", json={"name": "ops"}, headers=auth)
    listed = await gateway.get("/api/v1/api-keys", headers=auth)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same key, its secret shown once more to its maker
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert [key["id"] for key in listed.json()["data"]] == [first.json()["api_key"]["id"]]


async def test_a_key_works_is_counted_is_revoked_everywhere_and_outlives_identity(
    gateway: httpx.AsyncClient, stack: Stack
) -> None:
    user = await register(gateway, "Keymaker")
    auth = await bearer(gateway, user["user"]["email"])
    created = await gateway.post("/api/v1/api-keys", json={"name": "ci"}, headers=auth)
    assert created.status_code == 201, created.text
    raw, key_id = created.json()["key"], created.json()["api_key"]["id"]
    as_key = {"x-api-key": raw}

    async def accepted() -> bool | None:
        response = await gateway.get("/api/v1/api-keys", headers=as_key)
        return True if response.status_code == 200 else None

    await eventually(accepted)
    missing = await gateway.get("/api/v1/api-keys/key_missing", headers=as_key)
    assert missing.status_code == 404

    async def counted() -> dict[str, Any] | None:
        response = await gateway.get(f"/api/v1/api-keys/{key_id}/usage", headers=auth)
        days = response.json()["days"]
        classes = days[-1]["by_status_class"] if days else {}
        return classes if classes.get("2xx", 0) >= 1 and classes.get("4xx", 0) >= 1 else None

    await eventually(counted, within=30)

    second = await gateway.post("/api/v1/api-keys", json={"name": "ops"}, headers=auth)
    survivor = {"x-api-key": second.json()["key"]}
    revoked = await gateway.post(f"/api/v1/api-keys/{key_id}/revoke", headers=auth)
    assert revoked.status_code == 200
    at = time.monotonic()
    while (await gateway.get("/api/v1/credits/balance", headers=as_key)).status_code != 401:
        assert time.monotonic() - at < 1.0, "the revoked key still works after 1 s"
        await asyncio.sleep(0.02)
    refused = await gateway.get("/api/v1/credits/balance", headers=as_key)
    assert refused.json()["code"] == "api_key_revoked"

    await asyncio.to_thread(stack.kill, "identity")
    try:
        response = await gateway.get("/api/v1/credits/balance", headers=survivor)
        assert response.status_code == 200, response.text
    finally:
        await asyncio.to_thread(stack.restart, "identity")
