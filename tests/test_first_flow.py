"""The first flow, through the gateway and three services over NATS (issue: foundation)."""

from __future__ import annotations

import httpx
from skiff_cli.supervisor import Stack

from tests.conftest import eventually
from tests.users import bearer, login, register


async def test_signup_opens_credits_and_a_welcome_note(gateway: httpx.AsyncClient) -> None:
    created = await register(gateway, "Ada")
    assert created["user"]["email"].startswith("ada-")
    assert created["organization"]["id"].startswith("org_")
    auth = await bearer(gateway, created["user"]["email"])

    async def balance() -> dict[str, int] | None:
        response = await gateway.get("/api/v1/credits/balance", headers=auth)
        return response.json() if response.status_code == 200 else None

    assert await eventually(balance) == {
        "credits": 100,
        "reserved": 0,
        "available": 100,
        "usage_this_month": 0,
        "last_topped_up": None,
    }
    ledger = (await gateway.get("/api/v1/credits/transactions", headers=auth)).json()
    assert [(e["type"], e["amount"], e["balance_after"]) for e in ledger["data"]] == [
        ("bonus", 100, 100)
    ]

    async def welcome() -> list[dict[str, str]] | None:
        response = await gateway.get("/api/v1/notifications", headers=auth)
        notes: list[dict[str, str]] = response.json()["data"]
        return notes or None

    notes = await eventually(welcome)
    assert [note["type"] for note in notes] == ["welcome"]


async def test_me_answers_with_the_token_and_with_the_cookie(gateway: httpx.AsyncClient) -> None:
    created = await register(gateway, "Grace")
    signed_in = await login(gateway, created["user"]["email"])
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    token = signed_in.json()["session"]["access_token"]

    by_token = await gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}"})
    async with httpx.AsyncClient(
        base_url=str(gateway.base_url), cookies={"skiff_session": token}
    ) as browser:
        by_cookie = await browser.get("/api/v1/auth/me")
    for response in (by_token, by_cookie):
        assert response.status_code == 200, response.text
        me = response.json()
        assert me["user"]["id"] == created["user"]["id"]
        assert me["organization"]["id"] == created["organization"]["id"]
        assert (me["role"], me["via"]) == ("owner", "session")


async def test_errors_come_in_the_api_shape(gateway: httpx.AsyncClient) -> None:
    missing = await gateway.get("/api/v1/credits/balance")
    assert missing.status_code == 401
    assert missing.json()["code"] == "authentication_required"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]

    forged = await gateway.get("/api/v1/auth/me", headers={"authorization": "Bearer nope"})
    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_token")

    bad = await gateway.post("/api/v1/auth/register", json={"email": "a@example.com"})
    assert bad.status_code == 400
    fields = {field["field"] for field in bad.json()["details"]["fields"]}
    assert "password" in fields or "name" in fields

    unknown = await gateway.get("/api/v1/nothing-here", headers={"x-request-id": "req-mine-1"})
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"error", "code", "details", "request_id"}
    assert unknown.headers["x-request-id"] == "req-mine-1"


async def test_every_process_is_healthy(stack: Stack, gateway: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for process in stack.processes():
            health = await client.get(f"http://127.0.0.1:{process.private_port}/health")
            assert health.json()["status"] == "ok", process.label
            ready = await client.get(f"http://127.0.0.1:{process.private_port}/ready")
            assert ready.status_code == 200, (process.label, ready.text)
