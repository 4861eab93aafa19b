"""A client for the API key routes as the gateway forwards them, for a chosen principal."""

from __future__ import annotations

from typing import Any

import httpx
from identity_helpers import Identity
from skiff_contracts.ids import new_id
from skiff_kit.internal_token import Principal

BASE = "/api/v1/api-keys"


def user(org: str, role: str = "owner", user_id: str | None = None) -> Principal:
    """A signed-in user of `org` with `role` (identity trusts the gateway's principal)."""
    return Principal(
        organization_id=org,
        user_id=user_id or new_id("usr"),
        role=role,
        via="session",
        request_id="req_test",
        client_ip="203.0.113.7",
    )


def key_principal(org: str, key_id: str, scopes: tuple[str, ...]) -> Principal:
    """An API key acting in `org`, as the gateway signs it."""
    return Principal(
        organization_id=org, api_key_id=key_id, role="member", scopes=scopes, via="api_key"
    )


class Keys:
    """The API key routes, called as one principal."""

    def __init__(self, identity: Identity, principal: Principal) -> None:
        self.identity = identity
        self.principal = principal

    @property
    def headers(self) -> dict[str, str]:
        return self.identity.signer.headers(self.principal)

    async def call(self, method: str, path: str = "", body: Any = None) -> httpx.Response:
        return await self.identity.http.request(
            method, BASE + path, json=body, headers=self.headers
        )

    async def create(self, **body: Any) -> httpx.Response:
        return await self.call("POST", "", {"name": "ci", **body})

    async def created(self, **body: Any) -> dict[str, Any]:
        """Create (asserting the 201); returns `{key, api_key}`."""
        response = await self.create(**body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer
