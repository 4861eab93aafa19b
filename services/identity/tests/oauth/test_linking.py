"""Linking a provider account while signed in, and the conflicts it can meet."""

from __future__ import annotations

from typing import Any

import asyncpg
from identity_helpers import Identity, assert_error, new_email
from oauth_flow import OAuthFlow
from skiff_kit.internal_token import Principal
from test_sign_in import provider_user


async def _signed_in(identity: Identity) -> tuple[dict[str, Any], dict[str, str]]:
    """A registered user and the headers the gateway forwards for their session."""
    body = await identity.registered()
    session = await identity.session(body["user"]["email"])
    return body["user"], identity.as_user(session["access_token"])


async def test_a_signed_in_user_links_a_provider_account_with_another_email(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    user, headers = await _signed_in(oauth_identity)
    person = provider_user(new_email("elsewhere"), verified=False)

    response = await flow.sign_in("github", person, headers=headers, redirect_to="/settings")

    assert response.status_code == 302, response.text
    assert response.headers["location"] == "http://localhost:8080/settings"
    assert flow.user_id_of(response) == user["id"]
    row = await database.fetchrow("select * from identity.oauth_accounts")
    assert row is not None
    assert (row["user_id"], row["provider"], row["provider_user_id"], row["email"]) == (
        user["id"],
        "github",
        person.id,
        person.email,
    )
    audit = await database.fetch(
        "select action, actor_id, target_id, details->>'provider' as provider"
        " from identity.audit_log where details ? 'provider' order by id"
    )
    assert [tuple(entry) for entry in audit] == [
        ("auth.oauth_linked", user["id"], user["id"], "github"),
        ("auth.login", user["id"], user["id"], "github"),
    ]

    # From now on the provider account alone signs this user in.
    assert flow.user_id_of(await flow.sign_in("github", person)) == user["id"]


async def test_linking_an_account_that_belongs_to_someone_else_is_409(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    person = provider_user()
    owner = flow.user_id_of(await flow.sign_in("google", person))
    _, headers = await _signed_in(oauth_identity)

    response = await flow.sign_in("google", person, headers=headers)

    assert_error(response, 409, "oauth_account_linked_elsewhere")
    rows = await database.fetch("select user_id from identity.oauth_accounts")
    assert [row["user_id"] for row in rows] == [owner]


async def test_linking_again_the_account_already_linked_just_signs_in(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    user, headers = await _signed_in(oauth_identity)
    person = provider_user()
    await flow.sign_in("github", person, headers=headers)

    response = await flow.sign_in("github", person, headers=headers)

    assert flow.user_id_of(response) == user["id"]
    assert await database.fetchval("select count(*) from identity.oauth_accounts") == 1


async def test_a_second_account_of_the_same_provider_is_409(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    _, headers = await _signed_in(oauth_identity)
    await flow.sign_in("github", provider_user(), headers=headers)

    response = await flow.sign_in("github", provider_user(), headers=headers)

    assert_error(response, 409, "oauth_provider_already_linked")
    assert await database.fetchval("select count(*) from identity.oauth_accounts") == 1


async def test_one_user_may_link_both_providers(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    user, headers = await _signed_in(oauth_identity)

    for provider in ("github", "google"):
        response = await flow.sign_in(provider, provider_user(), headers=headers)  # type: ignore[arg-type]
        assert flow.user_id_of(response) == user["id"]

    providers = await database.fetch(
        "select provider from identity.oauth_accounts where user_id = $1 order by provider",
        user["id"],
    )
    assert [row["provider"] for row in providers] == ["github", "google"]


async def test_an_api_key_caller_starts_a_plain_sign_in_not_a_link(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    user, _ = await _signed_in(oauth_identity)
    api_key = Principal(
        organization_id="org_x", api_key_id="key_1", user_id=user["id"], via="api_key"
    )
    person = provider_user()

    response = await flow.sign_in("github", person, headers=oauth_identity.signer.headers(api_key))

    assert flow.user_id_of(response) != user["id"]
    owner = await database.fetchval("select user_id from identity.oauth_accounts")
    assert owner != user["id"]
