"""Usage: the gateway's batches are summed per day and status class, each batch once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nats
from apikey_helpers import Keys, user
from identity_helpers import Identity, assert_error
from skiff_contracts import Envelope
from skiff_contracts.events.gateway import KeyUsage, UsageReported


async def _publish(nats_url: str, envelope: Envelope) -> None:
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().publish(
            "gateway.usage.reported", envelope.encode(), headers={"Nats-Msg-Id": envelope.id}
        )
    finally:
        await connection.close()


async def test_usage_reports_reach_the_usage_route_once_each(
    identity: Identity, nats_url: str
) -> None:
    owner = Keys(identity, user("org_a"))
    key_id = (await owner.created())["api_key"]["id"]
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)

    def row(day: object, status_class: str, requests: int) -> KeyUsage:
        return KeyUsage(
            key_id=key_id,
            organization_id="org_a",
            day=day,  # type: ignore[arg-type]
            status_class=status_class,
            requests=requests,
        )

    now = datetime.now(UTC)
    first = UsageReported(
        replica="gw-1",
        window_start=now,
        window_end=now,
        usage=[row(today, "2xx", 5), row(today, "4xx", 1), row(yesterday, "2xx", 2)],
    )
    second = UsageReported(
        replica="gw-2", window_start=now, window_end=now, usage=[row(today, "2xx", 3)]
    )
    envelope = Envelope.wrap(first, source="skiff/gateway", event_id="usage-gw-1-1")
    await _publish(nats_url, envelope)
    # A redelivery with another Nats-Msg-Id: the inbox still counts it once.
    await _publish(nats_url, Envelope.wrap(first, source="skiff/gateway", event_id="usage-gw-1-1"))
    await _publish(nats_url, Envelope.wrap(second, source="skiff/gateway", event_id="usage-gw-2-1"))

    expected = {
        "total": 11,
        "days": [
            {"day": yesterday.isoformat(), "requests": 2, "by_status_class": {"2xx": 2}},
            {"day": today.isoformat(), "requests": 9, "by_status_class": {"2xx": 8, "4xx": 1}},
        ],
    }
    body = {}
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        body = (await owner.call("GET", f"/{key_id}/usage?days=7")).json()
        if body["total"] >= 11:
            break
    assert {k: body[k] for k in expected} == expected
    assert body["start"] == (today - timedelta(days=6)).isoformat()
    assert_error(await owner.call("GET", f"/{key_id}/usage?days=0"), 400, "validation_error")
