"""Two organizations, A and B, with the people and API keys the matrix calls as.

A: its owner, a viewer who joined by invite, a live key, a revoked one, an expired one and a
deactivated one. B: its owner. Everything is made through the gateway, as a client would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import eventually
from tests.matrix.invite_tokens import invite_token
from tests.matrix.organization import Headers, OrganizationA
from tests.users import bearer, register

# An expired key is made live with this much life left, then waited out.
EXPIRED_KEY_LIFETIME = timedelta(seconds=2)


@dataclass(kw_only=True)
class World(OrganizationA):
    """Every caller of the matrix: A's owner (the base), A's viewer and keys, B's owner."""

    org_b: str
    owner_b_id: str
    viewer_a: Headers
    viewer_a_email: str
    owner_b: Headers
    key_a: Headers
    dead_keys: dict[str, str]  # why it is refused (the expected `code`) → the raw key


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def make_key(gateway: httpx.AsyncClient, owner: Headers, **fields: Any) -> tuple[str, str]:
    """A new key of the owner's organization: (id, raw secret)."""
    body = _created(
        await gateway.post("/api/v1/api-keys", json={"name": "matrix", **fields}, headers=owner)
    )
    return body["api_key"]["id"], body["key"]


async def refused_with(gateway: httpx.AsyncClient, raw: str, code: str) -> None:
    """Wait until the gateway's view of keys refuses `raw` with `code` (it follows events)."""

    async def refused() -> bool | None:
        answer = await gateway.get("/api/v1/auth/me", headers={"x-api-key": raw})
        return True if answer.status_code == 401 and answer.json()["code"] == code else None

    await eventually(refused)


async def _join_as_viewer(
    gateway: httpx.AsyncClient, nats_url: str, owner: Headers, org: str
) -> tuple[Headers, str]:
    """A new user invited to `org` as a viewer who accepts; headers act in `org`."""
    person = await register(gateway, "Viewer")
    email = person["user"]["email"]
    own = await bearer(gateway, email)
    invited = {"email": email, "role": "viewer"}
    invite = _created(await gateway.post("/api/v1/invites", json=invited, headers=owner))
    token = await invite_token(nats_url, invite["id"])
    accepted = await gateway.post(f"/api/v1/invites/{token}/accept", headers=own)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "viewer"
    headers = {**own, "x-org-id": org}

    async def member() -> bool | None:
        me = await gateway.get("/api/v1/auth/me", headers=headers)
        return True if me.status_code == 200 and me.json()["role"] == "viewer" else None

    await eventually(member)
    return headers, email


async def _dead_keys(gateway: httpx.AsyncClient, owner: Headers) -> dict[str, str]:
    """Keys of the owner's organization the gateway must refuse, by the code it must give."""
    expires_at = datetime.now(UTC) + EXPIRED_KEY_LIFETIME
    _, expired = await make_key(gateway, owner, expires_at=expires_at.isoformat())
    revoked_id, revoked = await make_key(gateway, owner)
    inactive_id, inactive = await make_key(gateway, owner)
    answer = await gateway.post(f"/api/v1/api-keys/{revoked_id}/revoke", headers=owner)
    assert answer.status_code == 200, answer.text
    answer = await gateway.patch(
        f"/api/v1/api-keys/{inactive_id}", json={"active": False}, headers=owner
    )
    assert answer.status_code == 200, answer.text
    await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
    keys = {"api_key_revoked": revoked, "api_key_expired": expired, "api_key_inactive": inactive}
    for code, raw in keys.items():
        await refused_with(gateway, raw, code)
    return keys


async def build_world(gateway: httpx.AsyncClient, nats_url: str) -> World:
    """Organizations A and B with every caller the matrix needs."""
    a, b = await register(gateway, "OwnerA"), await register(gateway, "OwnerB")
    owner_a = await bearer(gateway, a["user"]["email"])
    owner_b = await bearer(gateway, b["user"]["email"])
    (viewer_a, viewer_email), (_, live), dead_keys = await asyncio.gather(
        _join_as_viewer(gateway, nats_url, owner_a, a["organization"]["id"]),
        make_key(gateway, owner_a),
        _dead_keys(gateway, owner_a),
    )
    key_a = {"x-api-key": live}

    async def accepted() -> bool | None:
        answer = await gateway.get("/api/v1/auth/me", headers=key_a)
        return True if answer.status_code == 200 else None

    await eventually(accepted)
    return World(
        gateway=gateway,
        nats_url=nats_url,
        org_a=a["organization"]["id"],
        org_b=b["organization"]["id"],
        owner_a=owner_a,
        owner_a_email=a["user"]["email"],
        owner_b_id=b["user"]["id"],
        viewer_a=viewer_a,
        viewer_a_email=viewer_email,
        owner_b=owner_b,
        key_a=key_a,
        dead_keys=dead_keys,
    )
