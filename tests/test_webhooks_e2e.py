"""Webhooks end to end through the gateway: a session started and stopped reaches a subscribed
endpoint as `sandbox.session.started` / `stopped`, signed, validated by the event catalog, and
shown in the delivery log. The receiver listens on loopback, which the stack allows
(`SKIFF_WEBHOOKS_ALLOWED_CIDRS`, tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import jsonschema_rs
import pytest
import svix
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase
from skiff_testing.http_receiver import Receiver, receiving
from skiff_testing.loopback_only import loopback_only
from standardwebhooks.webhooks import Webhook

from tests.conftest import eventually
from tests.matrix.stack import running_stack
from tests.users import bearer, register

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
EVENTS = ["sandbox.session.started", "sandbox.session.stopped"]


@pytest.fixture(scope="module")
async def stack(
    e2e_database: TestDatabase, nats_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    directory = tmp_path_factory.mktemp("webhooks")
    async with running_stack(e2e_database, nats_server_url, directory, {}) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with loopback_only() as refused:
        async with receiving() as running:
            yield running
    assert refused == []


async def test_a_session_reaches_a_subscribed_endpoint_signed_and_logged(
    stack: Stack, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as gateway:
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
        assert json.loads(bad.text)["code"] == "invalid_unsubscribe_token"
