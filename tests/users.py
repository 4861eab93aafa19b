"""Signing up and signing in through the gateway, as a client would."""

from __future__ import annotations

import uuid

import httpx

PASSWORD = "correct-horse-42"


async def register(gateway: httpx.AsyncClient, name: str = "Ada") -> dict[str, dict[str, str]]:
    """Register a new user with a unique email; returns the 201 body."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:12]}@example.com"
    response = await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    body: dict[str, dict[str, str]] = response.json()
    return body


async def login(gateway: httpx.AsyncClient, email: str) -> httpx.Response:
    """Log in; the response carries the session and the `skiff_session` cookie."""
    response = await gateway.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


async def bearer(gateway: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Authorization headers of a fresh login."""
    token = (await login(gateway, email)).json()["session"]["access_token"]
    return {"authorization": f"Bearer {token}"}
