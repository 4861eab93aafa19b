"""API key routes: create shows the raw key once, lists are masked, roles and scopes hold."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from apikey_helpers import Keys, key_principal, user
from identity_helpers import Identity, assert_error
from skiff_identity.apikeys.secrets import hash_secret


@pytest.fixture
def owner(identity: Identity) -> Keys:
    return Keys(identity, user("org_a", "owner"))


async def test_create_returns_the_raw_key_once_and_stores_only_its_hash(
    owner: Keys, database: asyncpg.Connection
) -> None:
    created = await owner.created(name="deploy bot", rate_limit=30)

    raw = created["key"]
    assert raw.startswith("sk_live_")
    assert len(raw) >= len("sk_live_") + 32
    shown = created["api_key"]
    assert shown["prefix"] == raw[:12]
    assert shown["last4"] == raw[-4:]
    assert shown["scopes"] == ["*"]
    assert shown["status"] == "active"
    assert shown["rate_limit"] == 30
    assert shown["created_by"] == owner.principal.user_id
    row = await database.fetchrow("select * from identity.api_keys where id = $1", shown["id"])
    assert row["secret_hash"] == hash_secret(raw)
    assert raw not in str(dict(row))
    detail = await owner.call("GET", f"/{shown['id']}")
    listed = await owner.call("GET")
    for text in (detail.text, listed.text):
        assert raw not in text
        assert "secret_hash" not in text
        assert row["secret_hash"] not in text
    assert detail.json()["prefix"] == shown["prefix"]


async def test_the_list_is_paginated_newest_first_and_hides_deleted_keys(owner: Keys) -> None:
    ids = [(await owner.created(name=f"k{n}"))["api_key"]["id"] for n in range(3)]
    assert (await owner.call("DELETE", f"/{ids[1]}")).status_code == 204

    first = (await owner.call("GET", "?limit=1")).json()
    rest = (await owner.call("GET", f"?limit=1&cursor={first['next_cursor']}")).json()

    assert [k["id"] for k in first["data"] + rest["data"]] == [ids[2], ids[0]]
    assert rest["next_cursor"] is None
    assert_error(await owner.call("GET", f"/{ids[1]}"), 404, "api_key_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["sessions:read", "root"]}, "invalid_scopes"),
        ({"scopes": []}, "invalid_scopes"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "validation_error"),
        ({"expires_at": "2999-01-01T00:00:00"}, "validation_error"),
        ({"rate_limit": 0}, "validation_error"),
        ({"name": ""}, "validation_error"),
        ({"name": "deploy\nkey"}, "validation_error"),
        ({"name": "deploy\x00"}, "validation_error"),
    ],
)
async def test_bad_input_is_400(owner: Keys, body: dict[str, Any], field: str) -> None:
    assert_error(await owner.create(**body), 400, field)


@pytest.mark.parametrize(
    "extra",
    [{"organization_id": "org_b"}, {"id": "key_mine"}, {"secret_hash": "0" * 64}],
)
async def test_mass_assignment_is_refused(owner: Keys, extra: dict[str, Any]) -> None:
    assert_error(await owner.create(**extra), 400, "validation_error")
    created = await owner.created()
    patched = await owner.call("PATCH", f"/{created['api_key']['id']}", extra)
    assert_error(patched, 400, "validation_error")
    assert (await owner.call("GET")).json()["data"][0]["id"] == created["api_key"]["id"]


async def test_scopes_are_normalized_and_patchable(owner: Keys) -> None:
    created = await owner.created(scopes=["sessions:write", "billing:read", "sessions:write"])
    key_id = created["api_key"]["id"]
    assert created["api_key"]["scopes"] == ["billing:read", "sessions:write"]

    patched = await owner.call(
        "PATCH", f"/{key_id}", {"name": "renamed", "scopes": ["deployments:read"], "active": False}
    )

    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["scopes"], body["active"], body["status"]) == (
        "renamed",
        ["deployments:read"],
        False,
        "inactive",
    )


async def test_another_organizations_key_is_404_on_every_route(
    identity: Identity, owner: Keys
) -> None:
    key_id = (await owner.created())["api_key"]["id"]
    stranger = Keys(identity, user("org_b", "owner"))

    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "mine"}),
        ("POST", "/revoke", None),
        ("POST", "/rotate", {}),
        ("POST", "/roll", None),
        ("GET", "/usage", None),
        ("DELETE", "", None),
    ]:
        assert_error(
            await stranger.call(method, f"/{key_id}{path}", body), 404, "api_key_not_found"
        )
    assert (await stranger.call("GET")).json()["data"] == []
    assert (await owner.call("GET", f"/{key_id}")).json()["status"] == "active"


async def test_a_viewer_reads_but_cannot_create_or_change(identity: Identity, owner: Keys) -> None:
    key_id = (await owner.created())["api_key"]["id"]
    viewer = Keys(identity, user("org_a", "viewer"))

    assert (await viewer.call("GET")).status_code == 200
    assert (await viewer.call("GET", f"/{key_id}")).status_code == 200
    assert_error(await viewer.create(), 403, "role_required")
    for method, path in [("PATCH", ""), ("POST", "/revoke"), ("POST", "/roll"), ("DELETE", "")]:
        body = {"name": "x"} if method == "PATCH" else None
        assert_error(await viewer.call(method, f"/{key_id}{path}", body), 403, "role_required")


async def test_a_member_manages_their_own_keys_only(identity: Identity, owner: Keys) -> None:
    owners_key = (await owner.created())["api_key"]["id"]
    member = Keys(identity, user("org_a", "member"))
    own = (await member.created())["api_key"]["id"]

    assert (await member.call("POST", f"/{own}/revoke")).json()["status"] == "revoked"
    assert_error(await member.call("POST", f"/{owners_key}/revoke"), 403, "role_required")
    admin = Keys(identity, user("org_a", "admin"))
    assert (await admin.call("POST", f"/{owners_key}/revoke")).json()["status"] == "revoked"


async def test_a_key_cannot_grant_more_than_it_holds(identity: Identity) -> None:
    scoped = Keys(
        identity, key_principal("org_a", "key_parent", ("apikeys:write", "sessions:read"))
    )

    assert_error(await scoped.create(scopes=["*"]), 403, "scope_not_grantable")
    assert_error(await scoped.create(scopes=["billing:write"]), 403, "scope_not_grantable")
    child = await scoped.created()
    assert child["api_key"]["scopes"] == ["apikeys:write", "sessions:read"]
    assert child["api_key"]["created_by"] == "key_parent"
    reader = Keys(identity, key_principal("org_a", "key_reader", ("sessions:read",)))
    assert_error(await reader.call("GET"), 403, "scope_required")
    assert_error(await reader.create(scopes=["sessions:read"]), 403, "scope_required")
