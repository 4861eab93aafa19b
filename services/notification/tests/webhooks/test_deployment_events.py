"""Deployment endings are public events: in the catalog, and sent to subscribed endpoints."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from deployment_support import completed, failed
from nats.js import JetStreamContext
from skiff_testing.http_receiver import Receiver
from standardwebhooks import Webhook
from webhook_support import OrgOf, publish

DEPLOYMENT_TYPES = ["orchestrator.deployment.completed", "orchestrator.deployment.failed"]


async def test_an_endpoint_subscribed_to_deployments_gets_both_signed_and_fitting_the_catalog(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext
) -> None:
    org = org_of(service)
    endpoint = await org.endpoint(receiver.url, events=DEPLOYMENT_TYPES)
    assert endpoint["events"] == DEPLOYMENT_TYPES
    good, bad = completed(org.id), failed(org.id)
    for payload in (good, bad):
        await publish(bus_js, payload, org.id)

    received = await receiver.wait_for(2)
    bodies = {}
    for request in received:
        body = Webhook(endpoint["secret"]).verify(request.body, dict(request.headers))
        bodies[body["type"]] = body
    assert set(bodies) == set(DEPLOYMENT_TYPES)
    listed = await org.call("GET", "/api/v1/event-types?limit=200")
    assert listed.json()["next_cursor"] is None
    catalog = {item["type"]: item for item in listed.json()["data"]}
    for name in DEPLOYMENT_TYPES:
        assert "deployment" in catalog[name]["description"]
        jsonschema_rs.validate(catalog[name]["schema"], bodies[name])  # raises if it does not fit
        jsonschema_rs.validate(catalog[name]["schema"], catalog[name]["example"])
    done = bodies["orchestrator.deployment.completed"]["data"]
    assert done["deployment_id"] == good.deployment_id
    assert done["status"] == "completed"
    assert done["credits"] == {"reserved": 12, "captured": 12, "released": 0}
    broke = bodies["orchestrator.deployment.failed"]["data"]
    assert (broke["status"], broke["failed_step"]) == ("failed", "validate_package")
    assert broke["failure_message"] == bad.failure_message
