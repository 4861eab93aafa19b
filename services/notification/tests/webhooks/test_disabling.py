"""410 disables at once; days of failure disable (owners warned a day before); nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from skiff_notification.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from skiff_testing.http_receiver import Receiver, Reply
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_retries import clock
from webhook_support import Log, OrgOf, owner_of, owners_known, publish, started, told, until


async def test_410_gone_disables_the_endpoint_at_once_and_keeps_its_messages(
    service: Any,
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    sessions: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    receiver.answer = lambda _: Reply(status=410, body=b"no such hook")
    org = org_of(service)
    await owner_of(bus_js, org.id)
    await until(lambda: owners_known(sessions, org.id), what="the owner known")
    endpoint = await org.endpoint(receiver.url)
    await publish(bus_js, started(org.id), org.id)
    await until(lambda: _disabled(log, endpoint["id"]), what="disabled")
    await publish(bus_js, started(org.id), org.id)  # after: kept, not sent
    await until(lambda: _count(log, endpoint["id"], 2), what="the second message kept")

    shown = (await org.call("GET", f"/api/v1/webhooks/{endpoint['id']}")).json()
    assert shown["status"] == "disabled"
    assert shown["disabled_reason"] == "gone"
    assert [m.status for m in await log.messages(endpoint["id"])] == ["endpoint_disabled"] * 2
    assert len(receiver.received) == 1
    notes, mails = await told(sessions, "webhook_disabled")
    assert len(notes) == 1
    assert len(mails) == 1
    assert "410 Gone" in mails[0].text_body
    replay = await org.call(
        "POST",
        f"/api/v1/webhooks/{endpoint['id']}/deliveries/{(await log.messages())[0].id}/replay",
    )
    assert replay.status_code == 409
    assert replay.json()["code"] == "endpoint_disabled"


async def _disabled(log: Log, endpoint_id: str) -> bool:
    return not (await log.endpoint(endpoint_id)).enabled


async def _count(log: Log, endpoint_id: str, count: int) -> bool:
    return len(await log.messages(endpoint_id)) >= count


async def test_a_receiver_down_for_days_is_disabled_then_recover_delivers_everything(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    sessions: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    """Down for the whole schedule and then some: warned, disabled, re-enabled, recovered."""
    down = True
    receiver.answer = lambda _: Reply(status=503) if down else Reply(status=204, body=b"")
    time = clock()
    async with start_service(clock=time) as client:
        org = org_of(client)
        await owner_of(bus_js, org.id)
        await until(lambda: owners_known(sessions, org.id), what="the owner known")
        endpoint = await org.endpoint(receiver.url)
        for _ in range(5):
            await publish(bus_js, started(org.id), org.id)
        for attempt, step in enumerate(RETRY_DELAYS, start=1):
            await until(
                lambda n=attempt: _all_reach(log, endpoint["id"], 5, n), what=f"round {attempt}"
            )
            time.advance(step * 1.2 + timedelta(seconds=1))
        await until(lambda: _all_reach(log, endpoint["id"], 5, MAX_ATTEMPTS), what="last round")
        await until(lambda: _statuses(log, endpoint["id"], {"failed"}), what="all failed")
        failing_since = (await log.endpoint(endpoint["id"])).failing_since
        assert failing_since is not None

        time.advance(failing_since + timedelta(days=4, minutes=1) - time.now())
        await until(lambda: _warned(sessions), what="warned a day before")
        assert (await log.endpoint(endpoint["id"])).enabled

        time.advance(timedelta(days=1))
        await until(lambda: _disabled(log, endpoint["id"]), what="disabled after five days")
        await publish(bus_js, started(org.id), org.id)  # while disabled: kept
        await until(lambda: _count(log, endpoint["id"], 6), what="the sixth message kept")

        down = False
        enabled = await org.call(
            "PATCH", f"/api/v1/webhooks/{endpoint['id']}", json={"enabled": True}
        )
        assert enabled.status_code == 200
        assert enabled.json()["status"] == "enabled"
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        recovery = await org.call(
            "POST", f"/api/v1/webhooks/{endpoint['id']}/recover", json={"since": since}
        )
        assert recovery.status_code == 202, recovery.text
        assert recovery.json()["status"] == "running"
        await until(lambda: _statuses(log, endpoint["id"], {"succeeded"}), what="all recovered")
        disabled_notes, disabled_mails = await told(sessions, "webhook_disabled")

    messages = await log.messages(endpoint["id"])
    assert len(messages) == 6
    delivered = {r.headers["webhook-id"] for r in receiver.received if r is not None}
    assert {m.id for m in messages} <= delivered, "every message reached the receiver"
    for message in messages[:5]:
        attempts = await log.attempts(message.id)
        assert len(attempts) == MAX_ATTEMPTS + 1
        assert attempts[-1].trigger == "manual"
        assert attempts[-1].status_code == 204
    assert len(disabled_notes) == 1
    assert len(disabled_mails) == 1
    assert "every delivery failed for days" in disabled_mails[0].text_body
    assert len((await told(sessions, "webhook_failing"))[0]) == 1, "told once, not per message"


async def _all_reach(log: Log, endpoint_id: str, messages: int, attempts: int) -> bool:
    found = await log.messages(endpoint_id)
    if len(found) < messages:
        return False
    for message in found:
        if len(await log.attempts(message.id)) < attempts:
            return False
    return True


async def _statuses(log: Log, endpoint_id: str, wanted: set[str]) -> bool:
    return {m.status for m in await log.messages(endpoint_id)} == wanted


async def _warned(sessions: async_sessionmaker[AsyncSession]) -> bool:
    notes, mails = await told(sessions, "webhook_disabling")
    return len(notes) == 1 and len(mails) == 1
