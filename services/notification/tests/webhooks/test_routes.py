"""Endpoint routes: validation, the organization boundary, who may write, the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.js import JetStreamContext
from skiff_testing.http_receiver import Receiver
from webhook_support import Log, OrgOf, publish, started, until


async def test_create_list_show_change_delete(
    service: Any, org_of: OrgOf, receiver: Receiver
) -> None:
    org = org_of(service)
    made = await org.endpoint(
        receiver.url, ["sandbox.session.started", "billing.credits.exhausted"], description="ops"
    )
    assert made["status"] == "enabled"
    assert made["events"] == ["sandbox.session.started", "billing.credits.exhausted"]
    listed = (await org.call("GET", "/api/v1/webhooks")).json()
    assert [e["id"] for e in listed["data"]] == [made["id"]]
    assert "secret" not in listed["data"][0]
    changed = await org.call(
        "PATCH",
        f"/api/v1/webhooks/{made['id']}",
        json={"events": ["*"], "rate_limit_per_second": 10, "description": "all of it"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["*"]
    assert changed.json()["rate_limit_per_second"] == 10
    unlimited = await org.call(
        "PATCH", f"/api/v1/webhooks/{made['id']}", json={"rate_limit_per_second": 0}
    )
    assert unlimited.json()["rate_limit_per_second"] is None
    deleted = await org.call("DELETE", f"/api/v1/webhooks/{made['id']}")
    assert deleted.status_code == 204
    gone = await org.call("GET", f"/api/v1/webhooks/{made['id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "webhook_not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"url": "https://hooks.example.com/x", "events": ["sandbox.session.teleported"]},
            "unknown_event_types",
        ),
        (
            {"url": "https://hooks.example.com/x", "events": ["identity.password_reset.requested"]},
            "unknown_event_types",
        ),
        (
            {"url": "https://hooks.example.com/x", "events": ["*", "sandbox.session.started"]},
            "validation_error",
        ),
        ({"url": "https://hooks.example.com/x", "events": []}, "validation_error"),
        ({"url": "ftp://hooks.example.com/x", "events": ["*"]}, "url_not_allowed"),
        ({"url": "https://user:pw@hooks.example.com/x", "events": ["*"]}, "url_not_allowed"),
        ({"url": "not a url", "events": ["*"]}, "url_not_allowed"),
        (
            {"url": "https://hooks.example.com/x", "events": ["*"], "secret": "mine"},
            "validation_error",
        ),
        (
            {"url": "https://hooks.example.com/x", "events": ["*"], "rate_limit_per_second": 0},
            "validation_error",
        ),
    ],
)
async def test_bad_endpoints_are_refused_with_the_reason(
    service: Any, org_of: OrgOf, body: dict[str, Any], code: str
) -> None:
    answer = await org_of(service).call("POST", "/api/v1/webhooks", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code


async def test_plain_http_needs_the_operator(start_service: Any, org_of: OrgOf) -> None:
    async with start_service(webhooks_allow_http=False) as client:
        answer = await org_of(client).call(
            "POST", "/api/v1/webhooks", json={"url": "http://hooks.example.com/", "events": ["*"]}
        )
    assert answer.status_code == 400
    assert "https" in answer.json()["error"]


async def test_another_organization_sees_404_and_a_viewer_cannot_write(
    service: Any, org_of: OrgOf, receiver: Receiver
) -> None:
    org = org_of(service)
    made = await org.endpoint(receiver.url)
    stranger = org_of(service)
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
        ("POST", "/test"),
    ]:
        answer = await stranger.call(method, f"/api/v1/webhooks/{made['id']}{path}", json={})
        assert answer.status_code == 404, (method, path, answer.text)
    viewer = org_of(service, role="viewer", org=org.id)
    assert (await viewer.call("GET", f"/api/v1/webhooks/{made['id']}")).status_code == 200
    refused = await viewer.call("POST", f"/api/v1/webhooks/{made['id']}/rotate-secret")
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_required"


async def test_the_delivery_log_shows_each_message_with_its_attempts(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext, log: Log
) -> None:
    org = org_of(service)
    made = await org.endpoint(receiver.url)
    envelope = await publish(bus_js, started(org.id), org.id)
    await receiver.wait_for(1)
    await until(lambda: _succeeded(log), what="recorded")
    listed = await org.call("GET", f"/api/v1/webhooks/{made['id']}/deliveries?status=succeeded")
    (delivery,) = listed.json()["data"]
    assert delivery["event_id"] == envelope.id
    assert delivery["event_type"] == "sandbox.session.started"
    assert delivery["next_attempt_at"] is None
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["trigger"] == "scheduled"
    assert attempt["response_excerpt"] == "ok"
    assert attempt["duration_ms"] >= 0
    none = await org.call("GET", f"/api/v1/webhooks/{made['id']}/deliveries?status=failed")
    assert none.json()["data"] == []

    replayed = await org.call(
        "POST", f"/api/v1/webhooks/{made['id']}/deliveries/{delivery['id']}/replay"
    )
    assert replayed.status_code == 202
    (first, again) = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery["id"]
    assert first.body == again.body
    missing = await org.call("POST", f"/api/v1/webhooks/{made['id']}/deliveries/msg_nope/replay")
    assert missing.status_code == 404


async def _succeeded(log: Log) -> bool:
    return [m.status for m in await log.messages()] == ["succeeded"]


async def test_recover_refuses_a_window_beyond_14_days(
    service: Any, org_of: OrgOf, receiver: Receiver
) -> None:
    org = org_of(service)
    made = await org.endpoint(receiver.url)
    old = (datetime.now(UTC) - timedelta(days=15)).isoformat()
    answer = await org.call("POST", f"/api/v1/webhooks/{made['id']}/recover", json={"since": old})
    assert answer.status_code == 400
    assert answer.json()["details"]["fields"][0]["field"] == "since"


async def test_the_endpoint_limit_is_a_409(
    start_service: Any, org_of: OrgOf, receiver: Receiver
) -> None:
    async with start_service(webhook_max_endpoints_per_organization=2) as client:
        org = org_of(client)
        await org.endpoint(receiver.url + "/1")
        await org.endpoint(receiver.url + "/2")
        third = await org.call(
            "POST", "/api/v1/webhooks", json={"url": receiver.url, "events": ["*"]}
        )
    assert third.status_code == 409
    assert third.json()["code"] == "webhook_endpoint_limit"


async def test_create_and_rotate_retried_with_their_idempotency_key_happen_once(
    service: Any, org_of: OrgOf, receiver: Receiver
) -> None:
    org = org_of(service)
    body = {"url": receiver.url, "events": ["*"]}
    keyed = {**org.headers, "idempotency-key": "endpoint-1"}

    first = await service.post("/api/v1/webhooks", json=body, headers=keyed)
    again = await service.post("/api/v1/webhooks", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["secret"] == first.json()["secret"]
    listed = (await org.call("GET", "/api/v1/webhooks")).json()["data"]
    assert [e["id"] for e in listed] == [first.json()["id"]]

    rotate = f"/api/v1/webhooks/{first.json()['id']}/rotate-secret"
    rotated = {**org.headers, "idempotency-key": "rotate-1"}
    once = await service.post(rotate, headers=rotated)
    twice = await service.post(rotate, headers=rotated)
    assert once.json()["secret"] == twice.json()["secret"] != first.json()["secret"]
