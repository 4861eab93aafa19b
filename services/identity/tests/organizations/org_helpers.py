"""Helpers of the organization tests: people, acting in an organization, events and audit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import msgspec
from identity_helpers import Identity, new_email, stream_events, stream_size
from skiff_kit.internal_token import Principal


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    personal_org: str


@dataclass(frozen=True)
class Acme:
    id: str
    ada: Person  # owner
    bob: Person  # admin
    cy: Person  # member
    di: Person  # viewer


class Orgs:
    """Requests as the gateway forwards them for a person acting in an organization."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.http = identity.http

    async def person(self, name: str) -> Person:
        body = await self.identity.registered(new_email(name), name=name.title())
        return Person(body["user"]["id"], body["user"]["email"], body["organization"]["id"])

    def headers(self, person: Person, org: str, role: str = "owner") -> dict[str, str]:
        """`role` is what the gateway claims; identity re-reads the real one for writes."""
        principal = Principal(
            organization_id=org,
            user_id=person.id,
            role=role,
            via="session",
            request_id="req_org",
            client_ip="203.0.113.5",
        )
        return self.identity.signer.headers(principal)

    async def call(
        self, method: str, path: str, person: Person, org: str, body: Any = None
    ) -> httpx.Response:
        headers = self.headers(person, org)
        if body is None:
            return await self.http.request(method, path, headers=headers)
        return await self.http.request(method, path, json=body, headers=headers)

    async def create_org(self, owner: Person, name: str) -> str:
        response = await self.call(
            "POST", "/api/v1/organizations", owner, owner.personal_org, {"name": name}
        )
        assert response.status_code == 201, response.text
        org_id: str = response.json()["id"]
        return org_id

    async def add(self, org: str, *, by: Person, person: Person, role: str) -> None:
        body = {"user_id": person.id, "role": role}
        response = await self.call("POST", "/api/v1/members", by, org, body)
        assert response.status_code == 201, response.text

    async def role_of(self, org: str, person: Person) -> str | None:
        response = await self.call("GET", "/api/v1/members?limit=200", person, org)
        if response.status_code != 200:
            return None
        roles = {m["user_id"]: m["role"] for m in response.json()["data"]}
        return roles.get(person.id)


async def events_of(nats_url: str, event_type: str, count: int) -> list[dict[str, Any]]:
    """The payloads (plus `_organization_id`) of `event_type` on IDENTITY, once `count` came."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(found) < count:
            await asyncio.sleep(0.05)
            events = await stream_events(nats_url, await stream_size(nats_url))
            found = [
                {**msgspec.json.decode(e.data), "_organization_id": e.organization_id}
                for e in events
                if e.type == event_type
            ]
    return found


async def audit_of(database: asyncpg.Connection, org: str) -> list[tuple[str, str | None, str]]:
    """(action, actor_id, target_id) of the organization's audit entries, oldest first."""
    rows = await database.fetch(
        "select action, actor_id, target_id from identity.audit_log"
        " where organization_id = $1 order by created_at, id",
        org,
    )
    return [(r["action"], r["actor_id"], r["target_id"]) for r in rows]


async def announced(
    nats_url: str, organization_id: str, user_id: str, role: str | None
) -> list[dict[str, Any]]:
    """Every `identity.membership.changed` so far, once (organization, user, role) is among them.

    Waits for that very event rather than for a count: registrations announce their owner's
    membership too, so counts depend on how many people a test signed up.
    """
    wanted = (organization_id, user_id, role)
    async with asyncio.timeout(10):
        while True:
            events = await stream_events(nats_url, await stream_size(nats_url))
            changed = [
                {**msgspec.json.decode(e.data), "_organization_id": e.organization_id}
                for e in events
                if e.type == "identity.membership.changed"
            ]
            if wanted in [(e["organization_id"], e["user_id"], e["role"]) for e in changed]:
                return changed
            await asyncio.sleep(0.05)
