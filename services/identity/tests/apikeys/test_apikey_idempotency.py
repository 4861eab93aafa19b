"""A create, rotate or roll retried with its Idempotency-Key makes one key (or one new secret)
and answers the same secret again, even when the gateway no longer had the first answer."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from apikey_helpers import BASE, Keys, user
from identity_helpers import Identity, assert_error


@pytest.fixture
def owner(identity: Identity) -> Keys:
    return Keys(identity, user("org_idem", "owner"))


async def _keyed(keys: Keys, path: str, body: Any, key: str) -> httpx.Response:
    headers = {**keys.headers, "idempotency-key": key}
    return await keys.identity.http.post(BASE + path, json=body, headers=headers)


async def test_a_create_retried_with_its_key_answers_the_same_key_and_secret(
    owner: Keys, database: asyncpg.Connection
) -> None:
    first = await _keyed(owner, "", {"name": "ci"}, "create-1")
    again = await _keyed(owner, "", {"name": "ci"}, "create-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["key"] == first.json()["key"]
    assert again.json()["api_key"]["id"] == first.json()["api_key"]["id"]
    count = await database.fetchval(
        "select count(*) from identity.api_keys where organization_id = 'org_idem'"
    )
    assert count == 1
    sealed = await database.fetchval(
        "select answer from identity.idempotency_keys where key = 'create-1'"
    )
    assert first.json()["key"].encode() not in sealed  # kept sealed, never in clear


async def test_a_rotation_retried_with_its_key_rotates_once(owner: Keys) -> None:
    created = await owner.created()
    path = f"/{created['api_key']['id']}/rotate"

    first = await _keyed(owner, path, {"grace_hours": 1}, "rotate-1")
    again = await _keyed(owner, path, {"grace_hours": 1}, "rotate-1")
    other = await _keyed(owner, path, {"grace_hours": 2}, "rotate-1")

    assert first.status_code == again.status_code == 200
    assert again.json()["key"] == first.json()["key"] != created["key"]
    assert_error(other, 422, "idempotency_key_reused")
    rolled = await _keyed(owner, f"/{created['api_key']['id']}/roll", None, "roll-1")
    assert rolled.json()["key"] not in (first.json()["key"], created["key"])
