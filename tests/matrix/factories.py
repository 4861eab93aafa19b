"""Factories of real resources of organization A, one per kind of id a public path takes.

The matrix fills every `{id}` of a path with a fresh resource of A made by the factory
registered under the parameter's name. A path whose id has no factory fails the matrix: add a
small function here and register it in FACTORIES. A factory receives the ids already made for
the same path (left to right), so a nested id (a task of a session) belongs to its parent.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.conftest import eventually
from tests.matrix.invite_tokens import invite_token
from tests.matrix.organization import OrganizationA
from tests.matrix.world import make_key
from tests.users import register

Factory = Callable[[OrganizationA, dict[str, str]], Awaitable[str]]


def _body(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


async def api_key(org: OrganizationA, made: dict[str, str]) -> str:
    key_id, _ = await make_key(org.gateway, org.owner_a)
    return key_id


async def member(org: OrganizationA, made: dict[str, str]) -> str:
    """Another user added to A as a member (not the owner: removing them must be possible)."""
    person = await register(org.gateway, "Member")
    added = await org.call(
        "POST",
        "/api/v1/members",
        org.owner_a,
        json={"email": person["user"]["email"], "role": "member"},
    )
    return str(_body(added)["user_id"])


async def _invite(org: OrganizationA) -> str:
    email = f"invitee-{uuid.uuid4().hex[:12]}@example.com"
    invited = await org.call(
        "POST", "/api/v1/invites", org.owner_a, json={"email": email, "role": "member"}
    )
    return str(_body(invited)["id"])


async def invite(org: OrganizationA, made: dict[str, str]) -> str:
    return await _invite(org)


async def invite_token_of_a(org: OrganizationA, made: dict[str, str]) -> str:
    """The secret token of a pending invite to A (sent to someone who is not the caller)."""
    return await invite_token(org.nats_url, await _invite(org))


async def notification(org: OrganizationA, made: dict[str, str]) -> str:
    """A's owner's welcome notification (made at sign-up; marking it read changes nothing)."""

    async def welcome() -> str | None:
        listed = await org.call("GET", "/api/v1/notifications", org.owner_a)
        notes = _body(listed)["data"]
        return str(notes[0]["id"]) if notes else None

    return await eventually(welcome)


async def session(org: OrganizationA, made: dict[str, str]) -> str:
    """A running sandbox session of A, stopped after the test (a live one counts to a limit)."""
    created = await org.call("POST", "/api/v1/sessions", org.owner_a, json={})
    session_id = str(_body(created)["id"])
    url = f"/api/v1/sessions/{session_id}"
    org.cleanups.append(lambda: org.call("DELETE", url, org.owner_a))

    async def running() -> bool | None:
        status = _body(await org.call("GET", url, org.owner_a))["status"]
        assert status in ("starting", "running"), f"session {session_id} is {status}"
        return True if status == "running" else None

    await eventually(running)
    return session_id


async def task(org: OrganizationA, made: dict[str, str]) -> str:
    """A task in the path's session (or in a new session of A)."""
    session_id = made.get("session_id") or made.get("sessions/{id}") or await session(org, made)
    created = await org.call(
        "POST",
        f"/api/v1/sessions/{session_id}/tasks",
        org.owner_a,
        json={"command": "true"},
    )
    return str(_body(created)["id"])


async def purchase(org: OrganizationA, made: dict[str, str]) -> str:
    """A pending purchase of A: a checkout at the Stripe stand-in the stack runs."""
    started = await org.call(
        "POST", "/api/v1/billing/checkout", org.owner_a, json={"package_id": "pkg_1000"}
    )
    return str(_body(started)["purchase_id"])


async def webhook_endpoint(org: OrganizationA, made: dict[str, str]) -> str:
    """An endpoint of A on a loopback address the test stack allows (nothing listens there)."""
    created = await org.call(
        "POST",
        "/api/v1/webhooks",
        org.owner_a,
        json={"url": "http://127.0.0.1:9/matrix", "events": ["sandbox.session.started"]},
    )
    return str(_body(created)["id"])


async def webhook_delivery(org: OrganizationA, made: dict[str, str]) -> str:
    """A message (a test ping) of the path's endpoint."""
    endpoint_id = made.get("endpoint_id") or await webhook_endpoint(org, made)
    sent = await org.call("POST", f"/api/v1/webhooks/{endpoint_id}/test", org.owner_a)
    return str(_body(sent)["id"])


# Keyed by the path parameter's name; a bare `{id}` is keyed by its collection: "sessions/{id}".
FACTORIES: dict[str, Factory] = {
    "key_id": api_key,
    "user_id": member,
    "invite_id": invite,
    "token": invite_token_of_a,
    "notification_id": notification,
    "session_id": session,
    "sessions/{id}": session,
    "task_id": task,
    "tasks/{id}": task,
    "purchase_id": purchase,
    "endpoint_id": webhook_endpoint,
    "delivery_id": webhook_delivery,
}


def registry_key(path: str, name: str) -> str:
    """The FACTORIES key of parameter `name` in `path`: the name, or `collection/{id}`."""
    if name != "id":
        return name
    before = path.split("{id}", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return f"{before}/{{id}}"


def missing_factory(path: str, name: str) -> str:
    """What a developer reads when a path takes an id nothing can make."""
    key = registry_key(path, name)
    return (
        f"{path} takes `{{{name}}}` but no factory makes one: add an async function that creates "
        f"a real resource of organization A and returns its id to FACTORIES[{key!r}] in "
        "tests/matrix/factories.py, so the authorization matrix covers the route."
    )


async def fresh_ids(org: OrganizationA, path: str, names: list[str]) -> dict[str, str]:
    """A new resource of A for each id of `path`, made left to right."""
    made: dict[str, str] = {}
    for name in names:
        factory = FACTORIES.get(registry_key(path, name))
        if factory is None:
            raise LookupError(missing_factory(path, name))
        made[registry_key(path, name)] = made[name] = await factory(org, made)
    return made


async def shared_ids(org: OrganizationA, path: str, names: list[str]) -> dict[str, str]:
    """Ids of A made once per kind and kept for the module: for callers refused anyway."""
    ids: dict[str, str] = {}
    for name in names:
        key = registry_key(path, name)
        if key not in org.shared_ids:
            made = len(org.cleanups)
            org.shared_ids[key] = (await fresh_ids(org, path, [name]))[name]
            org.final_cleanups.extend(org.cleanups[made:])
            del org.cleanups[made:]
        ids[name] = org.shared_ids[key]
    return ids
