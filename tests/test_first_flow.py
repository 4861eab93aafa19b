"""The first flow, through the gateway and the services over NATS: sign up, and a first webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import jsonschema_rs
import pytest
import svix
from skiff_cli.supervisor import Stack
from skiff_testing.http_receiver import Receiver, receiving
from skiff_testing.loopback_only import loopback_only
from standardwebhooks.webhooks import Webhook

from tests.conftest import eventually
from tests.users import bearer, login, register

EVENTS = ["sandbox.session.started", "sandbox.session.stopped"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on loopback; the test fails if anything connects elsewhere."""
    with loopback_only() as refused:
        async with receiving() as running:
            yield running
    assert refused == []


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


async def test_a_session_reaches_a_subscribed_endpoint_signed_and_logged(
    gateway: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Webhooks end to end: a session started and stopped reaches a subscribed endpoint as
    `sandbox.session.started` / `stopped`, signed, fitting the catalog, in the delivery log.
    The receiver listens on loopback, which the stack allows (tests/conftest.py)."""
    user = await register(gateway, "Hooked")
    auth = await bearer(gateway, user["user"]["email"])
    created = await gateway.post(
        "/api/v1/webhooks",
        headers=auth,
        json={"url": receiver.url + "/skiff", "events": EVENTS},
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()

    session = await gateway.post("/api/v1/sessions?wait=true", headers=auth, json={})
    assert session.status_code in (200, 201), session.text
    session_id = session.json()["id"]
    stopped = await gateway.delete(f"/api/v1/sessions/{session_id}", headers=auth)
    assert stopped.status_code in (200, 202), stopped.text

    received = await receiver.wait_for(2, within=60)
    catalog = (await gateway.get("/api/v1/event-types?limit=200", headers=auth)).json()
    schemas = {item["type"]: item["schema"] for item in catalog["data"]}
    bodies = []
    for request in received:
        body = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        svix.Webhook(endpoint["secret"]).verify(request.body, request.headers)
        jsonschema_rs.validate(schemas[body["type"]], body)
        assert body["data"]["session_id"] == session_id
        bodies.append(body)
    assert sorted(b["type"] for b in bodies) == EVENTS

    async def logged() -> list[dict[str, object]] | None:
        answer = await gateway.get(
            f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=succeeded", headers=auth
        )
        data: list[dict[str, object]] = answer.json()["data"]
        return data if len(data) == 2 else None

    log = await eventually(logged)
    assert {d["id"] for d in log} == {r.headers["webhook-id"] for r in received}
    assert sorted(str(d["event_type"]) for d in log) == EVENTS

    bad = await gateway.post("/api/v1/notifications/unsubscribe?token=not.valid")
    assert bad.status_code == 400, "reached without credentials, refused for its token"
    assert bad.json()["code"] == "invalid_unsubscribe_token"
