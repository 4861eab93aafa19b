"""Signing in through the callback: new users, linked users, and linking by verified email."""

from __future__ import annotations

import itertools

import asyncpg
import pytest
from conftest import APP_ORIGIN
from identity_helpers import (
    PASSWORD,
    Identity,
    assert_error,
    new_email,
    set_cookies,
    stream_events,
    stream_size,
)
from oauth_fake_provider import Dialect, FakeUser
from oauth_flow import STATE_COOKIE, OAuthFlow
from skiff_contracts.events.identity import MembershipChanged, OrganizationCreated, UserRegistered

_ids = itertools.count(4_200_000)


def provider_user(
    email: str | None = None, *, verified: bool = True, name: str = "Ada"
) -> FakeUser:
    """An account at the provider, with an email no other test uses (unless given)."""
    number = next(_ids)
    return FakeUser(
        id=str(number),
        login=f"ada{number}",
        email=email or new_email("oauth"),
        email_verified=verified,
        name=name,
    )


async def _accounts(database: asyncpg.Connection, user_id: str) -> list[tuple[str, str]]:
    rows = await database.fetch(
        "select provider, provider_user_id from identity.oauth_accounts where user_id = $1",
        user_id,
    )
    return [(row["provider"], row["provider_user_id"]) for row in rows]


@pytest.mark.parametrize("provider", ["github", "google"])
async def test_a_new_verified_email_creates_the_user_like_registration(
    flow: OAuthFlow,
    oauth_identity: Identity,
    database: asyncpg.Connection,
    nats_url: str,
    provider: Dialect,
) -> None:
    person = provider_user(name="Grace Hopper")

    response = await flow.sign_in(provider, person, redirect_to=f"{APP_ORIGIN}/welcome")

    assert response.status_code == 302, response.text
    assert response.headers["location"] == f"{APP_ORIGIN}/welcome"
    access, _ = flow.session_of(response)
    me = await oauth_identity.me(access)
    assert me.status_code == 200, me.text
    user, organization = me.json()["user"], me.json()["organization"]
    assert (user["email"], user["name"], user["email_verified"]) == (
        person.email,
        "Grace Hopper",
        True,
    )
    assert (me.json()["role"], organization["personal"]) == ("owner", True)
    assert organization["name"] == "Grace Hopper's workspace"
    assert await _accounts(database, user["id"]) == [(provider, person.id)]

    events = {event.type: event for event in await stream_events(nats_url, 3)}
    registered = events["identity.user.registered"].payload(UserRegistered)
    assert (registered.user_id, registered.email) == (user["id"], person.email)
    created = events["identity.organization.created"].payload(OrganizationCreated)
    assert (created.organization_id, created.owner_user_id) == (organization["id"], user["id"])
    owner = events["identity.membership.changed"].payload(MembershipChanged)
    assert (owner.organization_id, owner.user_id, owner.role) == (
        organization["id"],
        user["id"],
        "owner",
    )


@pytest.mark.parametrize("provider", ["github", "google"])
async def test_a_profile_name_with_line_breaks_is_kept_on_one_line(
    flow: OAuthFlow, oauth_identity: Identity, provider: Dialect
) -> None:
    person = provider_user(name="Grace\r\nBcc: all@example.com\tHopper")

    response = await flow.sign_in(provider, person, redirect_to=f"{APP_ORIGIN}/welcome")

    assert response.status_code == 302, response.text
    me = (await oauth_identity.me(flow.session_of(response)[0])).json()
    assert me["user"]["name"] == "Grace Bcc: all@example.com Hopper"
    assert me["organization"]["name"] == "Grace Bcc: all@example.com Hopper's workspace"


async def test_the_new_user_has_no_password_to_log_in_with(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    person = provider_user()
    user_id = flow.user_id_of(await flow.sign_in("github", person))

    stored = await database.fetchval(
        "select password_hash from identity.users where id = $1", user_id
    )
    assert stored == ""
    for password in (PASSWORD, "x", "anything-at-all-1"):
        response = await oauth_identity.login(person.email or "", password)
        assert_error(response, 401, "invalid_credentials")


async def test_success_sets_the_session_cookies_and_forgets_the_state(
    flow: OAuthFlow, oauth_identity: Identity
) -> None:
    response = await flow.sign_in("google", provider_user())

    assert response.headers["location"] == "http://localhost:8080/"  # the default
    assert response.headers["cache-control"] == "no-store"
    cookies = set_cookies(response)
    session = cookies["skiff_session"]
    assert session["httponly"]
    assert session["path"] == "/"
    assert session["samesite"].lower() == "lax"
    assert int(session["max-age"]) == 900
    refresh = cookies["skiff_refresh"]
    assert refresh["httponly"]
    assert refresh["path"] == "/api/v1/auth"  # refresh and logout read it
    assert refresh["samesite"].lower() == "strict"
    assert int(cookies[STATE_COOKIE]["max-age"]) == 0
    assert "token" not in response.headers["location"]
    claims = oauth_identity.claims(session.value)
    assert claims["role"] == "owner"
    refreshed = await oauth_identity.refresh(refresh.value)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["user"]["id"] == claims["sub"]


async def test_a_linked_account_signs_in_as_its_user_again(
    flow: OAuthFlow, database: asyncpg.Connection, nats_url: str
) -> None:
    person = provider_user()
    first = flow.user_id_of(await flow.sign_in("github", person))
    await stream_events(nats_url, 3)
    person.email = new_email("renamed")  # a changed email at the provider changes nothing

    again = flow.user_id_of(await flow.sign_in("github", person))

    assert again == first
    assert await database.fetchval("select count(*) from identity.users") == 1
    assert await stream_size(nats_url) == 3
    row = await database.fetchrow(
        "select email, last_login_at from identity.oauth_accounts where user_id = $1", first
    )
    assert row is not None
    assert row["email"] == person.email
    assert row["last_login_at"] is not None


async def test_a_verified_email_links_the_existing_user_automatically(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    body = await oauth_identity.registered()
    user_id, email = body["user"]["id"], body["user"]["email"]
    await database.execute(
        "update identity.users set email_verified_at = now() where id = $1", user_id
    )
    person = provider_user(email.upper())

    response = await flow.sign_in("google", person)

    assert flow.user_id_of(response) == user_id
    assert await _accounts(database, user_id) == [("google", person.id)]
    assert await database.fetchval("select count(*) from identity.users") == 1
    assert (await oauth_identity.login(email)).status_code == 200  # the password still works


async def test_linking_an_unverified_sign_up_takes_it_from_whoever_chose_its_password(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    squatter = await oauth_identity.registered()  # never proved the address
    email = squatter["user"]["email"]
    squatter_session = await oauth_identity.session(email)

    response = await flow.sign_in("github", provider_user(email))

    assert flow.user_id_of(response) == squatter["user"]["id"]
    assert_error(await oauth_identity.login(email), 401, "invalid_credentials")
    refresh = await oauth_identity.refresh(squatter_session["refresh_token"])
    assert refresh.status_code == 401, refresh.text
    me = await oauth_identity.me(flow.session_of(response)[0])
    assert me.json()["user"]["email_verified"] is True


@pytest.mark.parametrize("provider", ["github", "google"])
async def test_an_unverified_email_of_an_existing_user_is_not_linked(
    flow: OAuthFlow,
    oauth_identity: Identity,
    database: asyncpg.Connection,
    provider: Dialect,
) -> None:
    body = await oauth_identity.registered()

    response = await flow.sign_in(provider, provider_user(body["user"]["email"], verified=False))

    error = assert_error(response, 400, "oauth_email_not_verified")
    assert "link" in error["error"]
    assert "sign in" in error["error"].lower()
    assert await database.fetchval("select count(*) from identity.oauth_accounts") == 0
    assert "skiff_session" not in set_cookies(response)


async def test_an_unverified_email_creates_no_user(
    flow: OAuthFlow, database: asyncpg.Connection, nats_url: str
) -> None:
    # The fake GitHub also lists a verified noreply address: only the primary email counts.
    response = await flow.sign_in("github", provider_user(verified=False))

    assert_error(response, 400, "oauth_email_not_verified")
    assert await database.fetchval("select count(*) from identity.users") == 0
    assert await stream_size(nats_url) == 0


async def test_a_locked_user_cannot_sign_in_with_a_linked_account(
    flow: OAuthFlow, database: asyncpg.Connection
) -> None:
    person = provider_user()
    user_id = flow.user_id_of(await flow.sign_in("google", person))
    await database.execute("update identity.users set locked_at = now() where id = $1", user_id)

    response = await flow.sign_in("google", person)

    assert_error(response, 401, "account_locked")
    assert "skiff_session" not in set_cookies(response)
