"""The authorization matrix: every operation of the merged OpenAPI document, as every caller.

For each operation that takes an id, a resource of organization A is made fresh and B's owner
gets 404 (while A's owner does not); A's viewer gets 403 on every write; a revoked, an expired
and a deactivated key of A get 401 with the code that says which. The operations come from the
document (tests/matrix/document.py) and the live gateway must list exactly the same ones, so
a new route is covered or fails the matrix. The same stack then checks mass assignment (ids,
roles, organizations, credits in a body are refused or ignored) and a NUL in text (never 500).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_gateway.own_routes import OWN_PATHS
from skiff_gateway.routing import is_anonymous

from tests.conftest import eventually
from tests.matrix import examples, factories, mass_assignment
from tests.matrix.document import collected_document
from tests.matrix.factories import FACTORIES, fresh_ids, missing_factory, registry_key, shared_ids
from tests.matrix.operations import Operation, operations
from tests.matrix.rules import ANONYMOUS, NOT_ORGANIZATION_SCOPED, VIEWER_MAY_WRITE
from tests.matrix.world import World, build_world
from tests.users import PASSWORD, bearer, register

# The first test's setup starts the stack: minutes on a busy two-core machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DOCUMENT = collected_document()
OPERATIONS = list(operations(DOCUMENT))
AUTHENTICATED = [op for op in OPERATIONS if op.id not in ANONYMOUS]
WITH_IDS = [op for op in AUTHENTICATED if op.path_parameters]
VIEWER_WRITES = [op for op in AUTHENTICATED if op.is_write and op.id not in VIEWER_MAY_WRITE]
VIEWER_ALLOWED = [op for op in OPERATIONS if op.id in VIEWER_MAY_WRITE]
DEAD_KEY_CODES = ["api_key_revoked", "api_key_expired", "api_key_inactive"]
MakeIds = Callable[[Operation], Awaitable[dict[str, str]]]


def _name(operation: Operation) -> str:
    return operation.id


@pytest.fixture(scope="module")
async def world(stack: Stack, nats_server_url: str) -> AsyncIterator[World]:
    """Organizations A and B, made once for the module."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        built = await build_world(client, nats_server_url)
        yield built
        await built.clean_up(built.final_cleanups)


@pytest.fixture
async def fresh(world: World) -> AsyncIterator[Callable[[Operation], Awaitable[dict[str, str]]]]:
    """Makes new resources of A for an operation's ids; undoes what they hold afterwards."""

    async def make(operation: Operation) -> dict[str, str]:
        try:
            return await fresh_ids(world, operation.path, operation.path_parameters)
        except LookupError as missing:
            pytest.fail(str(missing))

    yield make
    await world.clean_up()


async def _shared(world: World, operation: Operation) -> dict[str, str]:
    try:
        return await shared_ids(world, operation.path, operation.path_parameters)
    except LookupError as missing:
        pytest.fail(str(missing))


async def _send(
    world: World, operation: Operation, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    """The operation with valid parameters and body, so only authorization can refuse it."""
    return await world.call(
        operation.method,
        operation.url(ids),
        headers,
        json=examples.body(DOCUMENT, operation),
        params=examples.query(DOCUMENT, operation),
    )


def _explain(who: str, operation: Operation, answer: httpx.Response) -> str:
    try:
        body = answer.text[:300]
    except httpx.ResponseNotRead:
        body = f"({answer.headers.get('content-type')} stream)"
    return f"{who} on {operation.id}: {answer.status_code} {body}"


def test_every_path_id_has_a_factory() -> None:
    missing = sorted(
        {
            missing_factory(op.path, name)
            for op in WITH_IDS
            for name in op.path_parameters
            if registry_key(op.path, name) not in FACTORIES
        }
    )
    assert not missing, "\n".join(missing)


def test_the_anonymous_list_is_the_gateways_and_the_documents() -> None:
    documented = {op.id for op in OPERATIONS if op.is_anonymous}
    gateway = {op.id for op in OPERATIONS if is_anonymous(op.path) or op.path in OWN_PATHS}
    assert set(ANONYMOUS) == gateway, "tests/matrix/rules.py ANONYMOUS vs the gateway's rule"
    assert set(ANONYMOUS) == documented, "ANONYMOUS vs the document's `security: []`"


def test_the_exception_lists_name_existing_operations() -> None:
    writes = {op.id for op in OPERATIONS if op.is_write}
    assert set(VIEWER_MAY_WRITE) <= writes, set(VIEWER_MAY_WRITE) - writes
    with_ids = {op.id for op in WITH_IDS}
    assert set(NOT_ORGANIZATION_SCOPED) <= with_ids, set(NOT_ORGANIZATION_SCOPED) - with_ids


async def test_the_live_gateway_lists_exactly_the_collected_operations(world: World) -> None:
    answer = await world.gateway.get("/api/v1/openapi.json")
    assert answer.status_code == 200, answer.text
    live = {op.id for op in operations(answer.json())}
    collected = {op.id for op in OPERATIONS}
    assert live == collected, {
        "served but not collected": sorted(live - collected),
        "collected but not served": sorted(collected - live),
    }


@pytest.mark.parametrize("operation", WITH_IDS, ids=_name)
async def test_another_organization_gets_404(
    world: World, fresh: MakeIds, operation: Operation
) -> None:
    ids = await fresh(operation)
    stranger = await _send(world, operation, ids, world.owner_b)
    expected_status, expected_code, _ = NOT_ORGANIZATION_SCOPED.get(
        operation.id, (404, None, "an id of organization A")
    )
    assert stranger.status_code == expected_status, _explain("B's owner", operation, stranger)
    if expected_code is not None:
        assert stranger.json()["code"] == expected_code, _explain("B's owner", operation, stranger)
    owner = await _send(world, operation, ids, world.owner_a)
    assert owner.status_code != 404, "control: " + _explain("A's owner", operation, owner)
    assert owner.status_code < 500, _explain("A's owner", operation, owner)


@pytest.mark.parametrize("operation", VIEWER_WRITES, ids=_name)
async def test_a_viewer_cannot_write(world: World, fresh: MakeIds, operation: Operation) -> None:
    ids = await fresh(operation)
    answer = await _send(world, operation, ids, world.viewer_a)
    assert answer.status_code == 403, _explain("A's viewer", operation, answer)


@pytest.mark.parametrize("operation", VIEWER_ALLOWED, ids=_name)
async def test_a_viewer_may_make_the_allowed_writes(
    world: World, fresh: MakeIds, operation: Operation
) -> None:
    """Allowed writes are called with a disposable sign-in: logout would end the shared one."""
    ids = await fresh(operation)
    disposable = {**await bearer(world.gateway, world.viewer_a_email), "x-org-id": world.org_a}
    answer = await _send(world, operation, ids, disposable)
    assert answer.status_code not in (401, 403), _explain("A's viewer", operation, answer)
    assert answer.status_code < 500, _explain("A's viewer", operation, answer)


@pytest.mark.parametrize("code", DEAD_KEY_CODES)
@pytest.mark.parametrize("operation", AUTHENTICATED, ids=_name)
async def test_a_dead_key_gets_401_with_its_reason(
    world: World, operation: Operation, code: str
) -> None:
    ids = await _shared(world, operation)
    raw = world.dead_keys[code]
    for headers in ({"x-api-key": raw}, {"authorization": f"Bearer {raw}"}):
        answer = await _send(world, operation, ids, headers)
        assert answer.status_code == 401, _explain(code, operation, answer)
        assert answer.json()["code"] == code, _explain(code, operation, answer)


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.id in ANONYMOUS], ids=_name)
async def test_an_anonymous_route_needs_no_credentials(world: World, operation: Operation) -> None:
    ids = {name: "github" for name in operation.path_parameters}
    answer = await _send(world, operation, ids, {})
    assert answer.status_code != 401 or answer.json()["code"] != "authentication_required", (
        _explain("nobody", operation, answer)
    )
    assert answer.status_code < 500, _explain("nobody", operation, answer)


async def test_naming_another_organization_is_refused(world: World) -> None:
    b_in_a = {**world.owner_b, "x-org-id": world.org_a}
    as_b_in_a = await world.call("GET", "/api/v1/members", b_in_a)
    key_in_b = await world.call("GET", "/api/v1/api-keys", {**world.key_a, "x-org-id": world.org_b})
    assert (as_b_in_a.status_code, as_b_in_a.json()["code"]) == (403, "not_a_member")
    assert (key_in_b.status_code, key_in_b.json()["code"]) == (403, "org_mismatch")


# Mass assignment: ownership, roles, money, ids and times in a body are refused or ignored.

OBJECT_WRITES = [
    op for op in OPERATIONS if op.is_write and mass_assignment.takes_object_body(DOCUMENT, op)
]


@pytest.mark.parametrize("operation", OBJECT_WRITES, ids=_name)
async def test_smuggled_fields_are_refused_or_ignored(
    world: World, fresh: MakeIds, operation: Operation
) -> None:
    """Called by A's owner with a sign-in of its own (a logout must not end the shared one)."""
    injected = {
        field: value
        for field, value in mass_assignment.smuggled(world.org_b, world.owner_b_id).items()
        if field not in mass_assignment.declared_fields(DOCUMENT, operation)
    }
    ids = {} if operation.id in ANONYMOUS else await fresh(operation)
    caller = {} if operation.id in ANONYMOUS else await bearer(world.gateway, world.owner_a_email)
    answer = await world.call(
        operation.method,
        operation.url(ids or {name: "github" for name in operation.path_parameters}),
        caller,
        json={**examples.body(DOCUMENT, operation), **injected},
        params=examples.query(DOCUMENT, operation),
    )
    assert answer.status_code < 500, _explain("A's owner", operation, answer)
    if answer.status_code == 400:
        return
    body = answer.json() if answer.content else None
    assert not mass_assignment.echoed(body, injected), _explain("A's owner", operation, answer)


async def _members(world: World, caller: dict[str, str]) -> dict[str, str]:
    listed = await world.call("GET", "/api/v1/members", caller, params={"limit": 200})
    assert listed.status_code == 200, listed.text
    return {member["user_id"]: member["role"] for member in listed.json()["data"]}


def _refuses(answer: httpx.Response, *fields: str) -> bool:
    """A 400 whose error names one of `fields` (as the unknown field it refused)."""
    return answer.status_code == 400 and any(f"`{field}`" in answer.text for field in fields)


async def test_signing_up_cannot_choose_role_organization_or_credits(world: World) -> None:
    email = f"smuggler-{uuid.uuid4().hex[:12]}@example.com"
    plain = {"email": email, "password": PASSWORD, "name": "Smuggler"}
    smuggled = {**plain, "role": "owner", "organization_id": world.org_b, "credits": 10**6}
    refused = await world.call("POST", "/api/v1/auth/register", {}, json=smuggled)
    assert _refuses(refused, "role", "organization_id", "credits"), refused.text

    created = await world.call("POST", "/api/v1/auth/register", {}, json=plain)
    assert created.status_code == 201, created.text
    user_id, org_id = created.json()["user"]["id"], created.json()["organization"]["id"]
    assert org_id not in (world.org_a, world.org_b)
    assert user_id not in await _members(world, world.owner_b)
    auth = await bearer(world.gateway, email)

    async def balance() -> int | None:
        answer = await world.call("GET", "/api/v1/credits/balance", auth)
        return int(answer.json()["credits"]) if answer.status_code == 200 else None

    assert await eventually(balance) == 100  # the sign-up bonus, not the smuggled credits


async def test_a_key_cannot_be_made_for_another_organization(world: World) -> None:
    for caller in (world.owner_a, world.key_a):
        body = {"name": "smuggled", "organization_id": world.org_b, "created_by": world.owner_b_id}
        answer = await world.call("POST", "/api/v1/api-keys", caller, json=body)
        assert _refuses(answer, "organization_id", "created_by"), answer.text
    for owner in (world.owner_a, world.owner_b):
        listed = await world.call("GET", "/api/v1/api-keys", owner, params={"limit": 200})
        assert "smuggled" not in {key["name"] for key in listed.json()["data"]}


async def test_a_member_cannot_be_moved_to_another_organization(world: World) -> None:
    user_id = await factories.member(world, {})
    moved = await world.call(
        "PATCH",
        f"/api/v1/members/{user_id}",
        world.owner_a,
        json={"role": "admin", "organization_id": world.org_b},
    )
    assert _refuses(moved, "organization_id"), moved.text
    person = await register(world.gateway, "Outsider")
    added = await world.call(
        "POST",
        "/api/v1/members",
        world.owner_a,
        json={"email": person["user"]["email"], "role": "member", "organization_id": world.org_b},
    )
    assert _refuses(added, "organization_id"), added.text

    in_a, in_b = await _members(world, world.owner_a), await _members(world, world.owner_b)
    assert in_a[user_id] == "member"
    assert person["user"]["id"] not in in_a
    assert user_id not in in_b
    assert person["user"]["id"] not in in_b


async def test_an_organization_keeps_its_id_and_its_owner(world: World) -> None:
    before = (await world.call("GET", "/api/v1/organizations/current", world.owner_a)).json()
    changed = await world.call(
        "PATCH",
        "/api/v1/organizations/current",
        world.owner_a,
        json={"name": "Taken", "id": world.org_b, "owner_id": world.owner_b_id},
    )
    assert _refuses(changed, "id", "owner_id"), changed.text
    after = (await world.call("GET", "/api/v1/organizations/current", world.owner_a)).json()
    assert after == before
    assert (await _members(world, world.owner_a)).get(world.owner_b_id) is None


# A NUL character in text: PostgreSQL cannot store it, so every route must refuse it (400),
# not fail on it (500); skiff_kit maps the database's refusal to a validation error.


def _with_nul(value: object) -> object:
    """`value` with a NUL character in each of its strings."""
    if isinstance(value, str):
        return value + "\x00"
    if isinstance(value, dict):
        return {key: _with_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_nul(item) for item in value]
    return value


@pytest.mark.parametrize(
    "operation",
    [pytest.param(op, id=op.id) for op in OBJECT_WRITES],
)
async def test_a_nul_character_in_text_is_refused_not_a_500(
    world: World, fresh: MakeIds, operation: Operation
) -> None:
    ids = {} if operation.id in ANONYMOUS else await fresh(operation)
    caller = {} if operation.id in ANONYMOUS else await bearer(world.gateway, world.owner_a_email)
    answer = await world.call(
        operation.method,
        operation.url(ids or {name: "github" for name in operation.path_parameters}),
        caller,
        json=_with_nul(examples.body(DOCUMENT, operation)),
        params=examples.query(DOCUMENT, operation),
    )
    assert answer.status_code < 500, _explain("A's owner", operation, answer)
