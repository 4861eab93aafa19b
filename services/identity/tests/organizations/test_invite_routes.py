"""Invites: by email with a role, the token only in the event, cancel, accept exactly once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from identity_helpers import StartIdentity, assert_error
from org_helpers import Acme, Orgs, Person, announced, audit_of, events_of
from skiff_kit.internal_token import Principal

INVITES = "/api/v1/invites"


async def _invite(orgs: Orgs, acme: Acme, email: str, role: str = "member") -> str:
    response = await orgs.call("POST", INVITES, acme.bob, acme.id, {"email": email, "role": role})
    assert response.status_code == 201, response.text
    invite_id: str = response.json()["id"]
    return invite_id


async def _token(nats_url: str, invite_id: str, count: int = 1) -> str:
    events = await events_of(nats_url, "identity.invite.created", count)
    token: str = next(e["token"] for e in events if e["invite_id"] == invite_id)
    return token


async def _accept(orgs: Orgs, token: str, person: Person) -> httpx.Response:
    return await orgs.call("POST", f"{INVITES}/{token}/accept", person, person.personal_org)


async def test_invite_answers_without_the_token_which_travels_only_in_the_event(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    response = await orgs.call(
        "POST", INVITES, acme.bob, acme.id, {"email": " Eve@Example.com ", "role": "member"}
    )

    assert response.status_code == 201, response.text
    invite = response.json()
    assert invite["id"].startswith("inv_")
    assert (invite["email"], invite["role"], invite["status"]) == (
        "eve@example.com",
        "member",
        "pending",
    )
    assert invite["invited_by"] == acme.bob.id
    assert "token" not in str(invite)
    [event] = await events_of(nats_url, "identity.invite.created", 1)
    assert (event["invite_id"], event["organization_id"], event["organization_name"]) == (
        invite["id"],
        acme.id,
        "Acme",
    )
    assert (event["email"], event["role"], event["invited_by"]) == (
        "eve@example.com",
        "member",
        acme.bob.id,
    )
    stored = await database.fetchrow("select token_hash, expires_at from identity.invites")
    assert stored is not None
    assert stored["token_hash"] == hashlib.sha256(event["token"].encode()).hexdigest()
    expected_expiry = datetime.now(UTC) + timedelta(days=7)
    assert abs((stored["expires_at"] - expected_expiry).total_seconds()) < 60
    assert ("invite.created", acme.bob.id, invite["id"]) in await audit_of(database, acme.id)


async def test_the_invite_lifetime_is_a_setting(
    start_identity: StartIdentity, acme: Acme, database: asyncpg.Connection
) -> None:
    async with start_identity(invite_ttl_days=2) as identity:
        orgs = Orgs(identity)
        await _invite(orgs, acme, "eve@example.com")
    expires_at = await database.fetchval("select expires_at from identity.invites")
    assert abs((expires_at - datetime.now(UTC) - timedelta(days=2)).total_seconds()) < 60


async def test_invite_refusals(orgs: Orgs, acme: Acme) -> None:
    await _invite(orgs, acme, "eve@example.com")
    cases = [
        (acme.cy, {"email": "x@example.com", "role": "viewer"}, 403, "role_required"),
        (acme.bob, {"email": "x@example.com", "role": "owner"}, 403, "role_required"),
        (acme.bob, {"email": acme.cy.email.upper(), "role": "viewer"}, 409, "already_member"),
        (acme.bob, {"email": "EVE@example.com", "role": "viewer"}, 409, "invite_pending"),
        (acme.bob, {"email": "not-an-email", "role": "viewer"}, 400, "validation_error"),
        (acme.bob, {"email": "x@example.com", "role": "god"}, 400, "validation_error"),
        (
            acme.bob,
            {"email": "x@example.com", "role": "viewer", "token": "t"},
            400,
            "validation_error",
        ),
    ]
    for actor, body, status, code in cases:
        assert_error(await orgs.call("POST", INVITES, actor, acme.id, body), status, code)


async def test_pending_invites_are_listed_to_admins_only(orgs: Orgs, acme: Acme) -> None:
    first = await _invite(orgs, acme, "eve@example.com")
    second = await _invite(orgs, acme, "fay@example.com", role="viewer")
    cancelled = await _invite(orgs, acme, "gus@example.com")
    await orgs.call("DELETE", f"{INVITES}/{cancelled}", acme.bob, acme.id)

    page = await orgs.call("GET", f"{INVITES}?limit=1", acme.ada, acme.id)
    rest = await orgs.call(
        "GET", f"{INVITES}?cursor={page.json()['next_cursor']}", acme.ada, acme.id
    )

    assert [i["id"] for i in page.json()["data"] + rest.json()["data"]] == [second, first]
    assert rest.json()["next_cursor"] is None
    assert_error(await orgs.call("GET", INVITES, acme.cy, acme.id), 403, "role_required")


async def test_cancel_within_the_organization_only(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    invite_id = await _invite(orgs, acme, "eve@example.com")
    token = await _token(nats_url, invite_id)
    eve = await orgs.person("eve")

    by_member = await orgs.call("DELETE", f"{INVITES}/{invite_id}", acme.cy, acme.id)
    foreign = await orgs.call("DELETE", f"{INVITES}/{invite_id}", eve, eve.personal_org)
    cancelled = await orgs.call("DELETE", f"{INVITES}/{invite_id}", acme.ada, acme.id)
    again = await orgs.call("DELETE", f"{INVITES}/{invite_id}", acme.ada, acme.id)

    assert_error(by_member, 403, "role_required")
    assert_error(foreign, 404, "invite_not_found")
    assert cancelled.status_code == 204, cancelled.text
    assert_error(again, 409, "invite_not_pending")
    assert ("invite.cancelled", acme.ada.id, invite_id) in await audit_of(database, acme.id)
    assert_error(await _accept(orgs, token, eve), 410, "invite_cancelled")


async def test_accept_joins_the_signed_in_user_with_the_role(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    eve = await orgs.person("eve")
    invite_id = await _invite(orgs, acme, eve.email.upper(), role="viewer")
    token = await _token(nats_url, invite_id)

    response = await _accept(orgs, token, eve)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["organization"]["id"], body["organization"]["name"]) == (acme.id, "Acme")
    assert body["role"] == body["organization"]["role"] == "viewer"
    assert await orgs.role_of(acme.id, eve) == "viewer"
    await announced(nats_url, acme.id, eve.id, "viewer")
    assert ("invite.accepted", eve.id, invite_id) in await audit_of(database, acme.id)
    assert_error(await _accept(orgs, token, eve), 409, "invite_used")
    listed = await orgs.call("GET", INVITES, acme.ada, acme.id)
    assert listed.json()["data"] == []


async def test_accept_refusals(
    orgs: Orgs, acme: Acme, nats_url: str, database: asyncpg.Connection
) -> None:
    eve = await orgs.person("eve")
    invite_id = await _invite(orgs, acme, eve.email)
    token = await _token(nats_url, invite_id)
    path = f"{INVITES}/{token}/accept"

    anonymous = await orgs.http.post(path, headers=orgs.identity.signer.headers())
    key = Principal(organization_id=eve.personal_org, api_key_id="key_1", via="api_key")
    by_key = await orgs.http.post(path, headers=orgs.identity.signer.headers(key))
    mismatch = await _accept(orgs, token, acme.di)
    unknown = await _accept(orgs, "inv_tok_nope", eve)

    assert_error(anonymous, 401, "authentication_required")
    assert_error(by_key, 403, "user_required")
    assert_error(mismatch, 403, "invite_email_mismatch")
    assert_error(unknown, 404, "invite_not_found")
    await database.execute(
        "update identity.invites set expires_at = now() - interval '1 second' where id = $1",
        invite_id,
    )
    assert_error(await _accept(orgs, token, eve), 410, "invite_expired")
    assert await orgs.role_of(acme.id, eve) is None


async def test_an_invite_of_a_deleted_organization_is_not_found(
    orgs: Orgs, acme: Acme, nats_url: str
) -> None:
    eve = await orgs.person("eve")
    token = await _token(nats_url, await _invite(orgs, acme, eve.email))
    await orgs.call("DELETE", "/api/v1/organizations/current", acme.ada, acme.id)

    assert_error(await _accept(orgs, token, eve), 404, "invite_not_found")
