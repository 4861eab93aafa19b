"""Signing up through `/api/v1/auth/register`: the account, its events, and every refusal."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from identity_helpers import PASSWORD, Identity, assert_error, new_email, stream_events, stream_size
from litestar.testing import TestClient
from skiff_contracts.events.identity import MembershipChanged, OrganizationCreated, UserRegistered
from skiff_identity.app import create
from skiff_identity.settings import IdentitySettings
from skiff_kit.names import NOT_PRINTABLE
from skiff_testing.services import GatewaySigner


def fields_of(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(field["field"], field["message"]) for field in body["details"]["fields"]}


async def test_register_creates_the_user_and_a_personal_organization(identity: Identity) -> None:
    email = new_email("grace")
    response = await identity.register(f"  {email.upper()} ", name=" Grace Hopper ")

    assert response.status_code == 201, response.text
    user, organization = response.json()["user"], response.json()["organization"]
    assert user["id"].startswith("usr_")
    assert (user["email"], user["name"], user["email_verified"]) == (email, "Grace Hopper", False)
    assert organization["id"].startswith("org_")
    assert organization["name"] == "Grace Hopper's workspace"
    assert organization["slug"].startswith("grace-hopper-")
    assert organization["personal"] is True
    assert "password" not in str(response.json()).lower()


async def test_register_names_the_organization_when_asked(identity: Identity) -> None:
    body = await identity.registered(organization_name="Analytical Engines Ltd")

    assert body["organization"]["name"] == "Analytical Engines Ltd"
    assert body["organization"]["slug"].startswith("analytical-engines-ltd-")


async def test_register_stores_an_argon2_hash_and_an_owner_membership(
    identity: Identity, database: asyncpg.Connection
) -> None:
    body = await identity.registered()

    user = await database.fetchrow(
        "select password_hash, default_organization_id from identity.users where id = $1",
        body["user"]["id"],
    )
    assert user is not None
    assert user["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in user["password_hash"]
    assert user["default_organization_id"] == body["organization"]["id"]
    role = await database.fetchval(
        "select role from identity.memberships where user_id = $1 and organization_id = $2",
        body["user"]["id"],
        body["organization"]["id"],
    )
    assert role == "owner"


async def test_register_announces_the_user_the_organization_and_its_owner(
    identity: Identity, nats_url: str
) -> None:
    body = await identity.registered(name="Ada")
    user, organization = body["user"], body["organization"]

    # One more asks notification for the verification email (tests/security).
    events = {event.type: event for event in await stream_events(nats_url, 4)}

    registered = events["identity.user.registered"]
    assert registered.source == "skiff/identity"
    assert (registered.subject, registered.organization_id) == (user["id"], organization["id"])
    payload = registered.payload(UserRegistered)
    assert (payload.user_id, payload.email, payload.name) == (user["id"], user["email"], "Ada")
    assert payload.organization_id == organization["id"]
    assert registered.traceparent is not None  # the request's trace continues on the bus
    created = events["identity.organization.created"]
    assert created.organization_id == organization["id"]
    assert created.payload(OrganizationCreated) == OrganizationCreated(
        organization_id=organization["id"],
        name=organization["name"],
        slug=organization["slug"],
        owner_user_id=user["id"],
        personal=True,
        created_at=payload.registered_at,
    )
    owner = events["identity.membership.changed"]
    assert (owner.subject, owner.organization_id) == (user["id"], organization["id"])
    assert owner.payload(MembershipChanged) == MembershipChanged(
        organization_id=organization["id"],
        user_id=user["id"],
        role="owner",
        changed_at=payload.registered_at,
    )
    assert "identity.email_verification.requested" in events
    assert await stream_size(nats_url) == 4


@pytest.mark.parametrize("variant", [str.upper, str.title, lambda email: f" {email}\t"])
async def test_an_email_is_taken_whatever_its_case(
    identity: Identity, nats_url: str, variant: Any
) -> None:
    email = new_email()
    await identity.registered(email)

    again = await identity.register(variant(email), name="Impostor")

    body = assert_error(again, 409, "email_taken")
    assert body["error"] == "An account with this email already exists."
    await stream_events(nats_url, 4)
    await asyncio.sleep(0.2)
    assert await stream_size(nats_url) == 4  # the refused sign-up announced nothing


async def test_parallel_sign_ups_with_one_email_make_one_account(
    identity_settings: IdentitySettings, gateway_signer: GatewaySigner, database: asyncpg.Connection
) -> None:
    body = {"email": new_email(), "password": PASSWORD, "name": "Twin"}
    with TestClient(create(identity_settings)) as client:

        def sign_up() -> Any:
            return client.post("/api/v1/auth/register", json=body, headers=gateway_signer.headers())

        # Each call blocks its own thread, so the requests overlap inside the service.
        responses = await asyncio.gather(*(asyncio.to_thread(sign_up) for _ in range(4)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "email_taken"
    assert await database.fetchval("select count(*) from identity.users") == 1
    assert await database.fetchval("select count(*) from identity.organizations") == 1


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("abc12", {"must be at least 10 characters long"}),
        ("onlylettershere", {"must mix letters with digits or symbols"}),
        ("12345678901234", {"must mix letters with digits or symbols"}),
        ("abc", {"must be at least 10 characters long", "must mix letters with digits or symbols"}),
    ],
)
async def test_the_password_policy_lists_every_broken_rule(
    identity: Identity, database: asyncpg.Connection, password: str, problems: set[str]
) -> None:
    response = await identity.register(password=password)

    body = assert_error(response, 400, "validation_error")
    assert fields_of(body) == {("password", problem) for problem in problems}
    assert await database.fetchval("select count(*) from identity.users") == 0


async def test_the_password_must_not_be_the_email(identity: Identity) -> None:
    email = new_email("same")
    response = await identity.register(email, password=email.upper())

    body = assert_error(response, 400, "validation_error")
    assert fields_of(body) == {("password", "must not be your email address")}


@pytest.mark.parametrize("email", ["not-an-email", "ada@localhost", "a b@example.com", "@x.io", ""])
async def test_a_bad_email_is_named_in_plain_words(identity: Identity, email: str) -> None:
    response = await identity.register(email)

    body = assert_error(response, 400, "validation_error")
    assert fields_of(body) == {("email", "must be an email address")}
    assert "regex" not in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Ada\r\nBcc: all@example.com"), ("organization_name", "Acme\nInc")],
)
async def test_names_with_a_line_break_are_refused_in_plain_words(
    identity: Identity, field: str, value: str
) -> None:
    response = await identity.register(new_email("crlf"), **{field: value})

    body = assert_error(response, 400, "validation_error")
    assert fields_of(body) == {(field, NOT_PRINTABLE)}
    assert "regex" not in response.text


async def test_every_bad_field_of_a_sign_up_is_reported_at_once(identity: Identity) -> None:
    response = await identity.register("nope", password="short", name="  ", organization_name=" ")

    body = assert_error(response, 400, "validation_error")
    assert fields_of(body) == {
        ("email", "must be an email address"),
        ("password", "must be at least 10 characters long"),
        ("password", "must mix letters with digits or symbols"),
        ("name", "must not be blank"),
        ("organization_name", "must not be blank"),
    }
    assert body["error"].startswith("Validation failed: email must be an email address")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD, "name": "Ada"}, "email"),
        ({"email": "ada@example.com", "name": "Ada"}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD}, "name"),
        ({"email": 42, "password": PASSWORD, "name": "Ada"}, "email"),
        ({"email": "ada@example.com", "password": ["x"], "name": "Ada"}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": None}, "name"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": ""}, "name"),
    ],
)
async def test_a_missing_or_ill_typed_field_is_named(
    identity: Identity, body: dict[str, Any], field: str
) -> None:
    response = await identity.post_anonymously("/api/v1/auth/register", body)

    problems = assert_error(response, 400, "validation_error")["details"]["fields"]
    assert [problem["field"] for problem in problems] == [field]


async def test_a_body_that_is_not_json_is_400(identity: Identity) -> None:
    response = await identity.http.post(
        "/api/v1/auth/register",
        content=b"{not json",
        headers={**identity.signer.headers(), "content-type": "application/json"},
    )

    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"organization_id": "org_someone_else"}, {"email_verified": True}],
)
async def test_fields_a_client_may_not_set_are_refused(
    identity: Identity, database: asyncpg.Connection, extra: dict[str, Any]
) -> None:
    response = await identity.register(**extra)

    body = assert_error(response, 400, "validation_error")
    assert next(iter(extra)) in body["error"]
    assert await database.fetchval("select count(*) from identity.users") == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh"]
)
async def test_anonymous_routes_still_need_the_gateway(identity: Identity, path: str) -> None:
    body = {"email": new_email(), "password": PASSWORD, "name": "Ada"}
    if path.endswith("refresh"):
        body = {"refresh_token": "rt_whatever"}
    elif path.endswith("login"):
        del body["name"]

    response = await identity.http.post(path, json=body)

    assert_error(response, 401, "missing_internal_token")
