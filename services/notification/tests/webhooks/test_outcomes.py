"""Successes in one statement: logged, succeeded, their endpoint healed, the gone skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from skiff_contracts import new_id
from skiff_notification.webhooks.claims import Claimed
from skiff_notification.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from skiff_notification.webhooks.notices import Notifier
from skiff_notification.webhooks.outcomes import Result, apply
from skiff_notification.webhooks.sender import Outcome
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


async def _endpoint_with_messages(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[str, list[str]]:
    endpoint = new_id("ep")
    ids = [new_id("msg") for _ in range(count)]
    async with sessions() as session, session.begin():
        session.add(
            WebhookEndpoint(
                id=endpoint,
                organization_id=new_id("org"),
                url="https://receiver.example/hook",
                event_types=["*"],
                secret="whsec_x",
                failing_since=NOW - timedelta(hours=3),
                failing_notice_at=NOW - timedelta(hours=1),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.flush()
        for message in ids:
            session.add(
                WebhookMessage(
                    id=message,
                    endpoint_id=endpoint,
                    organization_id=new_id("org"),
                    event_id=new_id("evt"),
                    event_type="sandbox.session.started",
                    body=b"{}",
                    status="pending",
                    attempts=2,
                    next_attempt_at=NOW + timedelta(seconds=60),  # leased
                    created_at=NOW,
                )
            )
    return endpoint, ids


def _success(endpoint: str, message: str, *, manual: bool = False) -> Result:
    claimed = Claimed(message, endpoint, "sandbox.session.started", b"{}", 2, manual)
    return Result(claimed, Outcome(204, None, 7, "ok"), NOW)


async def test_successes_are_logged_succeeded_and_heal_their_endpoint(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    endpoint, (first, second) = await _endpoint_with_messages(sessions, 2)
    gone = new_id("msg")  # its endpoint was deleted meanwhile: nothing to record
    results = [_success(endpoint, first), _success(endpoint, second, manual=True)]
    async with sessions() as session, session.begin():
        await apply(
            session,
            [*results, _success(endpoint, gone)],
            now=NOW,
            disable_after=timedelta(days=5),
            notifier=cast(Notifier, None),  # successes tell nobody
        )
    async with sessions() as session:
        messages = {
            m.id: m
            for m in await session.scalars(
                select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint)
            )
        }
        attempts = {
            a.message_id: a
            for a in await session.scalars(
                select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint)
            )
        }
        healed = await session.get(WebhookEndpoint, endpoint)
    assert {m.status for m in messages.values()} == {"succeeded"}
    assert {m.attempts for m in messages.values()} == {3}
    assert all(m.next_attempt_at is None and m.succeeded_at == NOW for m in messages.values())
    assert set(attempts) == {first, second}
    assert (attempts[first].trigger, attempts[second].trigger) == ("scheduled", "manual")
    assert (attempts[first].status_code, attempts[first].duration_ms) == (204, 7)
    assert (attempts[first].response_excerpt, attempts[first].error) == ("ok", None)
    assert healed is not None
    assert (healed.failing_since, healed.failing_notice_at) == (None, None)
