"""Organizations: mine, create (creator owns it), the context organization, rename, soft delete."""

from __future__ import annotations

import asyncpg
import pytest
from identity_helpers import assert_error
from org_helpers import Acme, Orgs, announced, audit_of, events_of
from skiff_kit.internal_token import Principal
from skiff_kit.names import NOT_PRINTABLE

ORGS = "/api/v1/organizations"
CURRENT = "/api/v1/organizations/current"


async def test_create_makes_the_creator_owner_and_announces_it(
    orgs: Orgs, nats_url: str, database: asyncpg.Connection
) -> None:
    ada = await orgs.person("ada")
    response = await orgs.call("POST", ORGS, ada, ada.personal_org, {"name": "  Acme Ltd "})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("org_")
    assert body["id"] != ada.personal_org
    assert (body["name"], body["personal"], body["role"]) == ("Acme Ltd", False, "owner")
    assert body["slug"].startswith("acme-ltd-")
    created = [
        e
        for e in await events_of(nats_url, "identity.organization.created", 2)
        if not e["personal"]
    ]
    assert [(e["organization_id"], e["owner_user_id"], e["name"]) for e in created] == [
        (body["id"], ada.id, "Acme Ltd")
    ]
    changed = [
        e
        for e in await announced(nats_url, body["id"], ada.id, "owner")
        if e["organization_id"] == body["id"]
    ]
    assert [(e["user_id"], e["role"], e["_organization_id"]) for e in changed] == [
        (ada.id, "owner", body["id"])
    ]
    assert await audit_of(database, body["id"]) == [("organization.created", ada.id, body["id"])]


async def test_create_refuses_blank_names_unknown_fields_and_api_keys(orgs: Orgs) -> None:
    ada = await orgs.person("ada")
    blank = await orgs.call("POST", ORGS, ada, ada.personal_org, {"name": "   "})
    smuggled = await orgs.call(
        "POST", ORGS, ada, ada.personal_org, {"name": "X", "id": "org_mine", "personal": True}
    )
    key = Principal(organization_id=ada.personal_org, api_key_id="key_1", via="api_key")
    by_key = await orgs.http.post(
        ORGS, json={"name": "X"}, headers=orgs.identity.signer.headers(key)
    )

    assert_error(blank, 400, "validation_error")
    assert_error(smuggled, 400, "validation_error")
    assert_error(by_key, 403, "user_required")


CONTROL_CHARACTERS = ["Acme\r\nBcc: all@example.com", "tab\there", "bell\x07", "del\x7f"]


@pytest.mark.parametrize("name", CONTROL_CHARACTERS)
async def test_a_name_with_a_control_character_is_refused(orgs: Orgs, name: str) -> None:
    ada = await orgs.person("ada")
    created = await orgs.call("POST", ORGS, ada, ada.personal_org, {"name": name})
    renamed = await orgs.call("PATCH", f"{ORGS}/current", ada, ada.personal_org, {"name": name})

    for refused in (created, renamed):
        assert_error(refused, 400, "validation_error")
        assert refused.json()["details"]["fields"] == [{"field": "name", "message": NOT_PRINTABLE}]
    mine = await orgs.call("GET", ORGS, ada, ada.personal_org)
    assert [o["id"] for o in mine.json()["data"]] == [ada.personal_org]  # nothing created
    assert name not in {o["name"] for o in mine.json()["data"]}  # nor renamed


async def test_list_shows_my_live_organizations_with_my_role_paginated(
    orgs: Orgs, acme: Acme
) -> None:
    other = await orgs.create_org(acme.cy, "Cy's own")

    first = await orgs.call("GET", f"{ORGS}?limit=2", acme.cy, acme.cy.personal_org)
    assert first.status_code == 200, first.text
    rest = await orgs.call(
        "GET", f"{ORGS}?limit=2&cursor={first.json()['next_cursor']}", acme.cy, acme.id
    )

    listed = [(o["id"], o["role"]) for o in first.json()["data"] + rest.json()["data"]]
    assert listed == [(other, "owner"), (acme.cy.personal_org, "owner"), (acme.id, "member")]
    assert rest.json()["next_cursor"] is None


async def test_current_shows_the_context_organization_and_my_current_role(
    orgs: Orgs, acme: Acme
) -> None:
    # The gateway claims "owner"; the membership says viewer, and that wins.
    response = await orgs.http.get(CURRENT, headers=orgs.headers(acme.di, acme.id, role="owner"))

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["role"]) == (acme.id, "viewer")
    stranger = await orgs.person("eve")
    assert_error(await orgs.call("GET", CURRENT, stranger, acme.id), 401, "not_a_member")


async def test_rename_needs_an_admin_and_is_audited(
    orgs: Orgs, acme: Acme, database: asyncpg.Connection
) -> None:
    by_member = await orgs.call("PATCH", CURRENT, acme.cy, acme.id, {"name": "Mine"})
    by_admin = await orgs.call("PATCH", CURRENT, acme.bob, acme.id, {"name": "Acme Corp"})
    smuggled = await orgs.call("PATCH", CURRENT, acme.bob, acme.id, {"personal": True})

    assert_error(by_member, 403, "role_required")
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["name"] == "Acme Corp"
    assert_error(smuggled, 400, "validation_error")
    current = await orgs.call("GET", CURRENT, acme.cy, acme.id)
    assert current.json()["name"] == "Acme Corp"
    assert ("organization.updated", acme.bob.id, acme.id) in await audit_of(database, acme.id)


async def test_delete_is_for_owners_and_ends_everyones_access(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    assert_error(await orgs.call("DELETE", CURRENT, acme.bob, acme.id), 403, "role_required")

    response = await orgs.call("DELETE", CURRENT, acme.ada, acme.id)

    assert response.status_code == 204, response.text
    deleted_at = await database.fetchval(
        "select deleted_at from identity.organizations where id = $1", acme.id
    )
    assert deleted_at is not None
    assert_error(await orgs.call("GET", CURRENT, acme.ada, acme.id), 404, "organization_not_found")
    assert_error(
        await orgs.call("GET", "/api/v1/members", acme.cy, acme.id), 404, "organization_not_found"
    )
    mine = await orgs.call("GET", ORGS, acme.ada, acme.ada.personal_org)
    assert [o["id"] for o in mine.json()["data"]] == [acme.ada.personal_org]
    everyone = {p.id for p in (acme.ada, acme.bob, acme.cy, acme.di)}
    for person in everyone:
        changed = await announced(nats_url, acme.id, person, None)
    removed = [e for e in changed if e["role"] is None]
    assert {e["user_id"] for e in removed} == everyone
    assert {e["organization_id"] for e in removed} == {acme.id}
    assert ("organization.deleted", acme.ada.id, acme.id) in await audit_of(database, acme.id)


async def test_a_personal_organization_cannot_be_deleted(orgs: Orgs) -> None:
    ada = await orgs.person("ada")

    response = await orgs.call("DELETE", CURRENT, ada, ada.personal_org)

    assert_error(response, 409, "personal_organization")
    assert (await orgs.call("GET", CURRENT, ada, ada.personal_org)).status_code == 200


async def test_an_api_key_sees_only_its_own_organization(orgs: Orgs, acme: Acme) -> None:
    key = Principal(organization_id=acme.id, api_key_id="key_1", role="member", via="api_key")

    response = await orgs.http.get(ORGS, headers=orgs.identity.signer.headers(key))

    assert response.status_code == 200, response.text
    assert [(o["id"], o["role"]) for o in response.json()["data"]] == [(acme.id, "member")]


async def test_the_openapi_document_lists_the_organization_routes(orgs: Orgs) -> None:
    paths = (await orgs.http.get("/openapi.json")).json()["paths"]

    for path in (
        ORGS,
        CURRENT,
        "/api/v1/members",
        "/api/v1/members/{user_id}",
        "/api/v1/invites",
        "/api/v1/invites/{invite_id}",
        "/api/v1/invites/{token}/accept",
    ):
        assert path in paths


async def test_a_create_retried_with_its_idempotency_key_makes_one_organization(
    orgs: Orgs,
) -> None:
    ada = await orgs.person("ada")
    headers = {**orgs.headers(ada, ada.personal_org), "idempotency-key": "new-org-1"}

    first = await orgs.http.post(ORGS, json={"name": "Once"}, headers=headers)
    again = await orgs.http.post(ORGS, json={"name": "Once"}, headers=headers)
    mine = (await orgs.call("GET", ORGS, ada, ada.personal_org)).json()["data"]

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert [o["name"] for o in mine].count("Once") == 1
