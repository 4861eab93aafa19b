"""Revoke, rotate, roll, delete: each audited and announced with the key's whole state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from apikey_helpers import Keys, user
from identity_helpers import Identity, assert_error, stream_events
from skiff_contracts.events.identity import ApiKeyState
from skiff_contracts.registry import payload_type
from skiff_identity.apikeys.secrets import hash_secret


@pytest.fixture
def owner(identity: Identity) -> Keys:
    return Keys(identity, user("org_a", "owner"))


async def test_rotate_keeps_the_old_secret_for_the_grace_period(
    owner: Keys, database: asyncpg.Connection
) -> None:
    created = await owner.created()
    key_id, old_raw = created["api_key"]["id"], created["key"]

    rotated = await owner.call("POST", f"/{key_id}/rotate", {"grace_hours": 2})

    assert rotated.status_code == 200, rotated.text
    new_raw = rotated.json()["key"]
    assert new_raw != old_raw
    assert rotated.json()["api_key"]["last4"] == new_raw[-4:]
    grace = datetime.fromisoformat(rotated.json()["api_key"]["grace_until"])
    assert timedelta(hours=1.9) < grace - datetime.now(UTC) <= timedelta(hours=2)
    row = await database.fetchrow("select * from identity.api_keys where id = $1", key_id)
    assert (row["secret_hash"], row["grace_secret_hash"]) == (
        hash_secret(new_raw),
        hash_secret(old_raw),
    )


async def test_the_grace_never_outlives_the_keys_own_expiry(owner: Keys) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    key_id = (await owner.created(expires_at=expires.isoformat()))["api_key"]["id"]

    rotated = (await owner.call("POST", f"/{key_id}/rotate", {"grace_hours": 24})).json()
    default = (await owner.call("POST", f"/{key_id}/rotate")).json()

    assert datetime.fromisoformat(rotated["api_key"]["grace_until"]) == expires
    assert datetime.fromisoformat(default["api_key"]["grace_until"]) == expires
    assert_error(
        await owner.call("POST", f"/{key_id}/rotate", {"grace_hours": -1}), 400, "validation_error"
    )


async def test_roll_ends_the_old_secret_now_and_revoked_keys_cannot_be_renewed(
    owner: Keys, database: asyncpg.Connection
) -> None:
    key_id = (await owner.created())["api_key"]["id"]

    rolled = await owner.call("POST", f"/{key_id}/roll")

    assert rolled.status_code == 200
    assert rolled.json()["api_key"]["grace_until"] is None
    row = await database.fetchrow("select * from identity.api_keys where id = $1", key_id)
    assert row["grace_until"] <= datetime.now(UTC)
    assert (await owner.call("POST", f"/{key_id}/revoke")).json()["status"] == "revoked"
    for path in ("/roll", "/rotate"):
        assert_error(await owner.call("POST", f"/{key_id}{path}"), 409, "api_key_revoked")
    assert_error(await owner.call("PATCH", f"/{key_id}", {"active": True}), 409, "api_key_revoked")


async def test_every_change_is_audited_and_announced_with_a_growing_version(
    owner: Keys, database: asyncpg.Connection, nats_url: str
) -> None:
    created = await owner.created(name="bot", scopes=["sessions:read"])
    key_id = created["api_key"]["id"]
    await owner.call("PATCH", f"/{key_id}", {"name": "bot 2"})
    await owner.call("POST", f"/{key_id}/rotate", {"grace_hours": 1})
    await owner.call("POST", f"/{key_id}/roll")
    await owner.call("POST", f"/{key_id}/revoke")
    await owner.call("POST", f"/{key_id}/revoke")  # already revoked: no new event
    await owner.call("DELETE", f"/{key_id}")

    events = await stream_events(nats_url, 6)

    kinds = ["created", "updated", "rotated", "rolled", "revoked", "deleted"]
    assert [e.type for e in events] == [f"identity.apikey.{kind}" for kind in kinds]
    states: list[ApiKeyState] = [e.payload(payload_type(e.type)) for e in events]
    assert [s.version for s in states] == [1, 2, 3, 4, 5, 6]
    assert all(s.key_id == key_id and s.organization_id == "org_a" for s in states)
    assert all(e.organization_id == "org_a" and e.subject == key_id for e in events)
    assert states[0].secret_hash == hash_secret(created["key"])
    assert states[1].name == "bot 2"
    assert states[2].grace_secret_hash == states[0].secret_hash
    assert (states[4].revoked, states[5].deleted) == (True, True)
    assert created["key"] not in str([e.data for e in events])
    audit = await database.fetch(
        "select action, actor_id, target_id, ip, request_id from identity.audit_log"
        " where target_type = 'api_key' order by id"
    )
    assert [a["action"] for a in audit] == [f"apikey.{kind}" for kind in kinds]
    assert {(a["actor_id"], a["target_id"], a["ip"], a["request_id"]) for a in audit} == {
        (owner.principal.user_id, key_id, "203.0.113.7", "req_test")
    }


async def test_an_expired_key_cannot_be_changed(owner: Keys, database: asyncpg.Connection) -> None:
    key_id = (await owner.created())["api_key"]["id"]
    await database.execute(
        "update identity.api_keys set expires_at = now() - interval '1 minute' where id = $1",
        key_id,
    )

    renamed = await owner.call("PATCH", f"/{key_id}", {"name": "late"})

    assert_error(renamed, 409, "api_key_expired")
    row = await database.fetchrow("select name from identity.api_keys where id = $1", key_id)
    assert row["name"] != "late"
