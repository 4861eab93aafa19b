"""The event catalog: every public event type with a schema, an example, and no internal ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
from nats.js import JetStreamContext
from skiff_contracts import new_id
from skiff_contracts.events.identity import ApiKeyCreated, InviteCreated
from skiff_contracts.public import INTERNAL_EVENT_TYPES
from skiff_contracts.registry import EVENT_TYPES
from skiff_testing.http_receiver import Receiver
from test_payload_cap import task_completed
from webhook_support import OrgOf, publish, started, stopped


async def _catalog(org: Any) -> dict[str, dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        answer = await org.call("GET", f"/api/v1/event-types?limit=7&cursor={cursor}")
        assert answer.status_code == 200, answer.text
        items += answer.json()["data"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return {item["type"]: item for item in items}


async def test_the_catalog_lists_public_types_with_valid_examples(
    service: Any, org_of: OrgOf
) -> None:
    catalog = await _catalog(org_of(service))
    public_sources = ("identity.", "billing.", "orchestrator.", "sandbox.")
    expected = {
        name
        for name, _ in EVENT_TYPES
        if name.startswith(public_sources) and name not in INTERNAL_EVENT_TYPES
    } | {"skiff.ping"}
    assert set(catalog) == expected
    for name, item in catalog.items():
        assert item["description"], name
        jsonschema_rs.validate(item["schema"], item["example"])  # raises if it does not fit
        assert item["example"]["type"] == name
    assert "secret_hash" not in json.dumps(catalog["identity.apikey.created"]["schema"])
    assert (
        "token"
        not in catalog["identity.invite.created"]["schema"]["$defs"]["InviteCreated"]["properties"]
    )


async def test_real_messages_validate_against_the_catalog_and_private_fields_stay_inside(
    service: Any, org_of: OrgOf, receiver: Receiver, bus_js: JetStreamContext
) -> None:
    org = org_of(service)
    await org.endpoint(receiver.url)
    session_id = new_id("ses")
    now = datetime.now(UTC)
    key = ApiKeyCreated(
        key_id=new_id("key"),
        organization_id=org.id,
        created_by=org.user,
        name="ci",
        prefix="sk_live",
        last4="abcd",
        secret_hash="SECRET-HASH",
        scopes=["*"],
        active=True,
        revoked=False,
        deleted=False,
        expires_at=None,
        rate_limit_per_minute=None,
        grace_secret_hash="GRACE-HASH",
        grace_until=None,
        version=1,
        changed_at=now,
    )
    invite = InviteCreated(
        invite_id=new_id("inv"),
        organization_id=org.id,
        organization_name="Org",
        email="x@example.com",
        role="member",
        invited_by=org.user,
        token="INVITE-TOKEN",
        expires_at=now,
    )
    events = [
        started(org.id, session_id),
        stopped(org.id, session_id),
        task_completed(org.id, "hi"),
        key,
        invite,
    ]
    for payload in events:
        await publish(bus_js, payload, org.id)
    received = await receiver.wait_for(len(events))
    catalog = await _catalog(org)
    for request in received:
        body = json.loads(request.body)
        jsonschema_rs.validate(catalog[body["type"]]["schema"], body)
        assert b"SECRET-HASH" not in request.body
        assert b"GRACE-HASH" not in request.body
        assert b"INVITE-TOKEN" not in request.body
    assert {json.loads(r.body)["type"] for r in received} == {p.event_type for p in events}
