"""A public event reaches its endpoint signed over the exact bytes; both libraries verify it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import svix
from nats.js import JetStreamContext
from skiff_contracts import Envelope
from skiff_testing import bus
from skiff_testing.http_receiver import Receiver, Reply
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from webhook_support import Log, OrgOf, publish, started, stopped, until


async def test_an_event_is_delivered_signed_and_both_libraries_verify_it(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext
) -> None:
    org = org_of(service)
    endpoint = await org.endpoint(receiver.url + "/hooks", ["sandbox.session.started"])
    assert endpoint["secret"].startswith("whsec_")
    shown = (await org.call("GET", f"/api/v1/webhooks/{endpoint['id']}")).json()
    assert "secret" not in shown, "the secret is shown once, at creation"

    envelope = await publish(bus_js, started(org.id), org.id)
    (request,) = await receiver.wait_for(1)

    assert request.path == "/hooks"
    assert request.headers["user-agent"].startswith("Skiff-Webhooks/")
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["type"] == "sandbox.session.started"
    assert body["data"]["session_id"] == json.loads(bytes(envelope.data))["session_id"]
    assert set(body) == {"type", "timestamp", "data"}
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers) == body
    svix.Webhook(endpoint["secret"]).verify(request.body, request.headers)  # raises if wrong
    tampered = request.body.replace(b"runner-1", b"runner-2")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(tampered, request.headers)
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.Webhook(endpoint["secret"]).verify(tampered, request.headers)
    assert request.headers["webhook-id"].startswith("msg_")


async def test_other_types_and_other_organizations_are_not_sent(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext, log: Log
) -> None:
    org, other = org_of(service), org_of(service)
    await org.endpoint(receiver.url, ["sandbox.session.stopped"])
    await publish(bus_js, started(org.id), org.id)  # not subscribed
    await publish(bus_js, stopped(other.id, "ses_x"), other.id)  # another organization
    await publish(bus_js, stopped(org.id, "ses_y"), org.id)
    (request,) = await receiver.wait_for(1)
    assert json.loads(request.body)["data"]["session_id"] == "ses_y"
    assert len(await log.messages()) == 1


async def test_a_rotated_secret_signs_beside_the_old_one(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext
) -> None:
    org = org_of(service)
    endpoint = await org.endpoint(receiver.url)
    rotated = await org.call("POST", f"/api/v1/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]

    await publish(bus_js, started(org.id), org.id)
    (request,) = await receiver.wait_for(1)
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    for secret in (endpoint["secret"], new_secret):
        Webhook(secret).verify(request.body, request.headers)
        svix.Webhook(secret).verify(request.body, request.headers)


async def test_a_message_is_stored_once_per_endpoint_however_often_the_event_comes(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext, log: Log
) -> None:
    org = org_of(service)
    first = await org.endpoint(receiver.url + "/a")
    second = await org.endpoint(receiver.url + "/b")
    payload = started(org.id)
    envelope = Envelope.wrap(payload, source="skiff/sandbox", organization_id=org.id)
    for n in range(3):  # a re-publish past the stream's de-duplication (another msg id)
        await bus.publish(bus_js, envelope, msg_id=f"{envelope.id}-{n}")
    await receiver.wait_for(2)
    await until(lambda: _all_done(log), what="both delivered")
    messages = await log.messages()
    assert sorted(m.endpoint_id for m in messages) == sorted([first["id"], second["id"]])
    assert len(receiver.received) == 2


async def _all_done(log: Log) -> bool:
    return all(s == "succeeded" for s in await log.statuses()())


async def test_a_receivers_cookie_is_never_sent_back(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext
) -> None:
    receiver.answer = lambda _: Reply(headers=(("set-cookie", "session=abc; Path=/"),))
    org = org_of(service)
    await org.endpoint(receiver.url)
    await publish(bus_js, started(org.id), org.id)
    await receiver.wait_for(1)
    await publish(bus_js, started(org.id), org.id)
    _, second = await receiver.wait_for(2)
    assert "cookie" not in second.headers
