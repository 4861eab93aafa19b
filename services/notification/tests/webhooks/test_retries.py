"""Failing receivers on loopback, walked through the retry schedule with an injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from skiff_notification.webhooks.clock import ManualClock
from skiff_notification.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS
from skiff_testing.http_receiver import Receiver, Reply
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webhook_support import Log, OrgOf, owner_of, owners_known, publish, started, told, until


def clock() -> ManualClock:
    # Ahead of the wall clock, so messages stored "now" are due at once.
    return ManualClock(datetime.now(UTC) + timedelta(minutes=1))


async def attempts_reach(log: Log, endpoint_id: str, count: int) -> bool:
    messages = await log.messages(endpoint_id)
    return bool(messages) and len(await log.attempts(messages[0].id)) >= count


async def test_a_failing_receiver_gets_the_whole_schedule_then_the_owners_are_told(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    sessions: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    receiver.answer = lambda _: Reply(status=500, body=b"database is down")
    time = clock()
    async with start_service(clock=time) as client:
        org = org_of(client)
        await owner_of(bus_js, org.id)
        await until(lambda: owners_known(sessions, org.id), what="the owner known")
        endpoint = await org.endpoint(receiver.url)
        await publish(bus_js, started(org.id), org.id)
        for attempt, step in enumerate(RETRY_DELAYS, start=1):
            await until(
                lambda n=attempt: attempts_reach(log, endpoint["id"], n), what=f"attempt {attempt}"
            )
            (message,) = await log.messages(endpoint["id"])
            last = (await log.attempts(message.id))[-1]
            assert message.status == "pending"
            assert message.next_attempt_at is not None
            gap = message.next_attempt_at - last.at
            assert step * 0.8 <= gap <= step * 1.2, f"after attempt {attempt}: {gap} for {step}"
            time.advance(step * 1.2 + timedelta(seconds=1))
        await until(
            lambda: attempts_reach(log, endpoint["id"], MAX_ATTEMPTS), what="the last attempt"
        )
        await until(lambda: _status_is(log, endpoint["id"], "failed"), what="given up")
        notes, mails = await told(sessions, "webhook_failing")
    (message,) = await log.messages(endpoint["id"])
    attempts = await log.attempts(message.id)
    assert len(attempts) == MAX_ATTEMPTS
    assert len(receiver.received) == MAX_ATTEMPTS
    assert {r.headers["webhook-id"] for r in receiver.received} == {message.id}
    assert all(a.status_code == 500 and a.response_excerpt == "database is down" for a in attempts)
    assert message.next_attempt_at is None
    assert [n.title for n in notes] == ["A webhook endpoint is failing"]
    assert len(mails) == 1
    assert mails[0].to_address == "owner@example.com"
    assert mails[0].unsubscribe_url
    assert "/api/v1/notifications/unsubscribe?token=" in mails[0].unsubscribe_url


async def _status_is(log: Log, endpoint_id: str, status: str) -> bool:
    return [m.status for m in await log.messages(endpoint_id)] == [status]


async def test_a_429_with_retry_after_waits_as_asked(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    receiver.answer = lambda _: Reply(status=429, headers=(("retry-after", "300"),))
    async with start_service(clock=clock()) as client:
        org = org_of(client)
        endpoint = await org.endpoint(receiver.url)
        await publish(bus_js, started(org.id), org.id)
        await until(lambda: attempts_reach(log, endpoint["id"], 1), what="one attempt")
        await until(lambda: _next_set(log, endpoint["id"]), what="the retry planned")
    (message,) = await log.messages(endpoint["id"])
    (attempt,) = await log.attempts(message.id)
    assert attempt.status_code == 429
    assert message.next_attempt_at is not None
    assert message.next_attempt_at - attempt.at == timedelta(seconds=300)


async def test_a_timeout_waits_at_least_a_minute(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    receiver.answer = lambda _: Reply(hang=True)
    async with start_service(clock=clock(), webhook_timeout_seconds=0.5) as client:
        org = org_of(client)
        endpoint = await org.endpoint(receiver.url)
        await publish(bus_js, started(org.id), org.id)
        await until(lambda: attempts_reach(log, endpoint["id"], 1), what="one attempt")
        await until(lambda: _next_set(log, endpoint["id"]), what="the retry planned")
    (message,) = await log.messages(endpoint["id"])
    (attempt,) = await log.attempts(message.id)
    assert attempt.error == "timeout"
    assert attempt.status_code is None
    assert message.next_attempt_at is not None
    assert message.next_attempt_at - attempt.at >= timedelta(seconds=60)


async def _next_set(log: Log, endpoint_id: str) -> bool:
    (message,) = await log.messages(endpoint_id)
    lease_over = message.last_attempt_at is not None
    return lease_over and message.status == "pending"


async def test_redirects_are_not_followed(
    service: Any, org_of: OrgOf, bus_js: JetStreamContext, log: Log, receiver: Receiver
) -> None:
    receiver.answer = lambda r: Reply(status=307, headers=(("location", "/elsewhere"),))
    org = org_of(service)
    endpoint = await org.endpoint(receiver.url + "/hook")
    await publish(bus_js, started(org.id), org.id)
    await until(lambda: attempts_reach(log, endpoint["id"], 1), what="one attempt")
    (message,) = await log.messages(endpoint["id"])
    (attempt,) = await log.attempts(message.id)
    assert attempt.status_code == 307
    assert [r.path for r in receiver.received] == ["/hook"]
