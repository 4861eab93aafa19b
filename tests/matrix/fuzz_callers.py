"""Who schemathesis calls as, and with which real ids.

An owner and an API key of one organization; the owner where a key is refused (403); a
disposable user for the routes that would end the shared credentials; and, per path template,
real resources of the organization (made by the matrix's factories) for the pass that fuzzes
past the 404 of a random id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from tests.conftest import eventually
from tests.matrix.factories import fresh_ids
from tests.matrix.operations import Operation
from tests.matrix.organization import Headers, OrganizationA
from tests.matrix.world import make_key
from tests.users import PASSWORD, bearer, register

# Routes that would end the caller's own credentials or organization: each case gets its own.
OWN_CREDENTIALS = frozenset({"POST /api/v1/auth/logout", "DELETE /api/v1/organizations/current"})
# Fuzzed with generated ids only (the other pass), each for its reason.
GENERATED_IDS_ONLY: dict[str, str] = {
    "GET /api/v1/sessions/{session_id}/events": (
        "the stream stays open while the session lives: a real id holds the call until timeout"
    ),
}


@dataclass
class FuzzCallers:
    """Credentials and real ids of one organization, for synchronous schemathesis tests."""

    base_url: str
    api_key: Headers
    owner: Headers
    # "METHOD /path/{template}" → ids: each operation its own (a DELETE would spoil a PATCH).
    real_ids: dict[str, dict[str, str]] = field(default_factory=dict)

    def disposable(self) -> Headers:
        """A fresh user of a fresh organization (for logout and deleting the organization)."""
        email = f"disposable-{uuid.uuid4().hex[:12]}@example.com"
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            body = {"email": email, "password": PASSWORD, "name": "Disposable"}
            assert client.post("/api/v1/auth/register", json=body).status_code == 201
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            return {"authorization": f"Bearer {login.json()['session']['access_token']}"}


async def fuzz_organization(gateway: httpx.AsyncClient, nats_url: str) -> OrganizationA:
    """A new organization and its signed-in owner."""
    created = await register(gateway, "Fuzzer")
    return OrganizationA(
        gateway=gateway,
        nats_url=nats_url,
        org_a=created["organization"]["id"],
        owner_a=await bearer(gateway, created["user"]["email"]),
        owner_a_email=created["user"]["email"],
    )


async def fuzz_callers(org: OrganizationA, operations: list[Operation]) -> FuzzCallers:
    """A live key of `org`, and real resources for each operation that takes ids of
    organizations (an anonymous path's id, an OAuth provider, is left to the generator)."""
    _, raw = await make_key(org.gateway, org.owner_a)
    api_key = {"x-api-key": raw}

    async def accepted() -> bool | None:
        answer = await org.gateway.get("/api/v1/auth/me", headers=api_key)
        return True if answer.status_code == 200 else None

    await eventually(accepted)
    callers = FuzzCallers(base_url=str(org.gateway.base_url), api_key=api_key, owner=org.owner_a)
    for operation in operations:
        if operation.path_parameters and not operation.is_anonymous:
            callers.real_ids[operation.id] = await fresh_ids(
                org, operation.path, operation.path_parameters
            )
    org.final_cleanups.extend(org.cleanups)
    org.cleanups.clear()
    return callers
