"""A new user signed in through a running gateway, as a client would (benchmarks, e2e runs)."""

from __future__ import annotations

import secrets

import httpx

PASSWORD = "correct-horse-42"


async def signed_in(base_url: str, name: str = "Bench") -> tuple[httpx.AsyncClient, str]:
    """A client carrying a new user's access token, and the id of the user's organization.

    Registering opens the organization (billing gives it the signup credits); the caller
    closes the client.
    """
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anonymous:
        email = f"{name.lower()}-{secrets.token_hex(6)}@example.com"
        registered = await anonymous.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        registered.raise_for_status()
        login = await anonymous.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        login.raise_for_status()
        token = login.json()["session"]["access_token"]
    client = httpx.AsyncClient(
        base_url=base_url, timeout=60, headers={"authorization": f"Bearer {token}"}
    )
    return client, str(registered.json()["organization"]["id"])
