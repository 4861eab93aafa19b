"""Members: list, add, change roles and remove within the rules; the last owner stays."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from identity_helpers import assert_error
from org_helpers import Acme, Orgs, Person, announced, audit_of

MEMBERS = "/api/v1/members"


async def test_list_shows_every_member_with_name_email_role_paginated(
    orgs: Orgs, acme: Acme
) -> None:
    first = await orgs.call("GET", f"{MEMBERS}?limit=3", acme.di, acme.id)
    assert first.status_code == 200, first.text
    rest = await orgs.call(
        "GET", f"{MEMBERS}?limit=3&cursor={first.json()['next_cursor']}", acme.di, acme.id
    )

    members = first.json()["data"] + rest.json()["data"]
    assert rest.json()["next_cursor"] is None
    by_id = {m["user_id"]: m for m in members}
    assert len(members) == 4
    assert {uid: m["role"] for uid, m in by_id.items()} == {
        acme.ada.id: "owner",
        acme.bob.id: "admin",
        acme.cy.id: "member",
        acme.di.id: "viewer",
    }
    assert (by_id[acme.bob.id]["email"], by_id[acme.bob.id]["name"]) == (acme.bob.email, "Bob")
    assert by_id[acme.bob.id]["joined_at"]


async def test_another_organizations_member_is_not_found(orgs: Orgs, acme: Acme) -> None:
    eve = await orgs.person("eve")

    for method, body in (("PATCH", {"role": "viewer"}), ("DELETE", None)):
        response = await orgs.call(method, f"{MEMBERS}/{eve.id}", acme.ada, acme.id, body)
        assert_error(response, 404, "member_not_found")
        # ... nor can Acme's owner touch Acme members from Eve's organization.
        response = await orgs.call(method, f"{MEMBERS}/{acme.cy.id}", eve, eve.personal_org, body)
        assert_error(response, 404, "member_not_found")


async def test_add_by_email_announces_and_audits_it(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    eve = await orgs.person("eve")

    body = {"email": eve.email.upper(), "role": "member"}
    response = await orgs.call("POST", MEMBERS, acme.bob, acme.id, body)

    assert response.status_code == 201, response.text
    assert (response.json()["user_id"], response.json()["role"]) == (eve.id, "member")
    assert await orgs.role_of(acme.id, eve) == "member"
    await announced(nats_url, acme.id, eve.id, "member")
    assert ("member.added", acme.bob.id, eve.id) in await audit_of(database, acme.id)


async def test_add_refuses_what_a_user_can_get_wrong(orgs: Orgs, acme: Acme) -> None:
    eve = await orgs.person("eve")
    cases = [
        (acme.cy, {"user_id": eve.id, "role": "viewer"}, 403, "role_required"),
        (acme.bob, {"user_id": eve.id, "role": "owner"}, 403, "role_required"),
        (acme.bob, {"email": "nobody@example.com", "role": "member"}, 404, "user_not_found"),
        (acme.bob, {"user_id": acme.cy.id, "role": "member"}, 409, "already_member"),
        (acme.bob, {"user_id": eve.id, "role": "superuser"}, 400, "validation_error"),
        (acme.bob, {"user_id": "org_123", "role": "member"}, 400, "validation_error"),
        (acme.bob, {"role": "member"}, 400, "validation_error"),
        (
            acme.bob,
            {"user_id": eve.id, "email": eve.email, "role": "member"},
            400,
            "validation_error",
        ),
        (
            acme.bob,
            {"user_id": eve.id, "role": "member", "organization_id": "x"},
            400,
            "validation_error",
        ),
    ]
    for actor, body, status, code in cases:
        assert_error(await orgs.call("POST", MEMBERS, actor, acme.id, body), status, code)
    assert await orgs.role_of(acme.id, eve) is None


async def test_a_stale_gateway_role_does_not_grant_writes(orgs: Orgs, acme: Acme) -> None:
    eve = await orgs.person("eve")
    # Di is a viewer; the gateway's (stale) claim of "owner" must not let her add anyone.
    response = await orgs.http.post(
        MEMBERS,
        json={"user_id": eve.id, "role": "viewer"},
        headers=orgs.headers(acme.di, acme.id, role="owner"),
    )

    assert_error(response, 403, "role_required")


async def test_change_role_within_the_rules(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    promoted = await orgs.call(
        "PATCH", f"{MEMBERS}/{acme.di.id}", acme.bob, acme.id, {"role": "admin"}
    )

    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    await announced(nats_url, acme.id, acme.di.id, "admin")
    assert ("member.role_changed", acme.bob.id, acme.di.id) in await audit_of(database, acme.id)
    made_owner = await orgs.call(
        "PATCH", f"{MEMBERS}/{acme.bob.id}", acme.ada, acme.id, {"role": "owner"}
    )
    assert made_owner.json()["role"] == "owner"


@pytest.mark.parametrize(
    ("actor", "target", "role", "status", "code"),
    [
        ("cy", "di", "member", 403, "role_required"),  # a member manages nobody
        ("bob", "cy", "owner", 403, "role_required"),  # an admin cannot make owners
        ("bob", "ada", "member", 403, "role_required"),  # an admin cannot demote an owner
        ("bob", "bob", "owner", 403, "role_required"),  # nor promote themselves
        ("ada", "ada", "admin", 409, "last_owner"),  # the last owner stays owner
        ("ada", "cy", "boss", 400, "validation_error"),
    ],
)
async def test_change_role_refusals(
    orgs: Orgs, acme: Acme, actor: str, target: str, role: str, status: int, code: str
) -> None:
    who: Person = getattr(acme, actor)
    whom: Person = getattr(acme, target)
    before = await orgs.role_of(acme.id, whom)

    response = await orgs.call("PATCH", f"{MEMBERS}/{whom.id}", who, acme.id, {"role": role})

    assert_error(response, status, code)
    assert await orgs.role_of(acme.id, whom) == before


async def test_an_owner_can_step_down_once_another_owner_exists(orgs: Orgs, acme: Acme) -> None:
    await orgs.call("PATCH", f"{MEMBERS}/{acme.bob.id}", acme.ada, acme.id, {"role": "owner"})

    response = await orgs.call(
        "PATCH", f"{MEMBERS}/{acme.ada.id}", acme.ada, acme.id, {"role": "admin"}
    )

    assert response.status_code == 200, response.text
    last = await orgs.call("DELETE", f"{MEMBERS}/{acme.bob.id}", acme.bob, acme.id)
    assert_error(last, 409, "last_owner")


async def _session_in(database: asyncpg.Connection, user: Person, org: str) -> str:
    """A live refresh token of `user` bound to `org`; returns its id."""
    token_id = f"rtk_{hashlib.sha256(f'{user.id}{org}'.encode()).hexdigest()[:20]}"
    await database.execute(
        "insert into identity.refresh_tokens"
        " (id, user_id, organization_id, family_id, token_hash, expires_at)"
        " values ($1, $2, $3, $4, $5, $6)",
        token_id,
        user.id,
        org,
        "rtf_" + token_id,
        hashlib.sha256(token_id.encode()).hexdigest(),
        datetime.now(UTC) + timedelta(days=1),
    )
    return token_id


async def test_removing_a_member_ends_their_sessions_there_only(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    in_acme = await _session_in(database, acme.cy, acme.id)
    elsewhere = await _session_in(database, acme.cy, acme.cy.personal_org)
    await database.execute(
        "update identity.users set default_organization_id = $1 where id = $2", acme.id, acme.cy.id
    )

    response = await orgs.call("DELETE", f"{MEMBERS}/{acme.cy.id}", acme.bob, acme.id)

    assert response.status_code == 204, response.text
    assert await orgs.role_of(acme.id, acme.cy) is None
    revoked = dict(
        await database.fetch("select id, revoked_at is not null from identity.refresh_tokens")
    )
    assert (revoked[in_acme], revoked[elsewhere]) == (True, False)
    default = await database.fetchval(
        "select default_organization_id from identity.users where id = $1", acme.cy.id
    )
    assert default == acme.cy.personal_org
    await announced(nats_url, acme.id, acme.cy.id, None)
    assert ("member.removed", acme.bob.id, acme.cy.id) in await audit_of(database, acme.id)


@pytest.mark.parametrize(
    ("actor", "target", "status", "code"),
    [
        ("cy", "di", 403, "role_required"),
        ("di", "cy", 403, "role_required"),
        ("bob", "ada", 403, "role_required"),  # an admin cannot remove an owner
        ("ada", "ada", 409, "last_owner"),  # the last owner cannot leave
    ],
)
async def test_remove_refusals(
    orgs: Orgs, acme: Acme, actor: str, target: str, status: int, code: str
) -> None:
    who: Person = getattr(acme, actor)
    whom: Person = getattr(acme, target)

    response = await orgs.call("DELETE", f"{MEMBERS}/{whom.id}", who, acme.id)

    assert_error(response, status, code)
    assert await orgs.role_of(acme.id, whom) is not None


async def test_anyone_can_leave(orgs: Orgs, acme: Acme, database: asyncpg.Connection) -> None:
    response = await orgs.call("DELETE", f"{MEMBERS}/{acme.di.id}", acme.di, acme.id)

    assert response.status_code == 204, response.text
    assert await orgs.role_of(acme.id, acme.di) is None
    assert ("member.left", acme.di.id, acme.di.id) in await audit_of(database, acme.id)
    again = await orgs.call("DELETE", f"{MEMBERS}/{acme.di.id}", acme.di, acme.id)
    assert_error(again, 401, "not_a_member")
