"""What an attempt's outcome does: the log, the message's next step, the endpoint's health.

Applied for a batch of outcomes in one transaction. 2xx succeeds and ends a run of failures;
410 disables the endpoint at once; any other failure waits for the next step of the schedule,
or fails the message when the schedule is spent (telling the owners at the first such
message). An endpoint failing for `disable_after` is disabled, its owners warned a day before.

A recorded attempt ends its lease (claims.py counts a lease until the message's `attempts` go
up); when one of those endpoints has due messages waiting for that room, possibly on another
replica, the dispatchers are woken (NOTIFY at COMMIT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks import service
from skiff_notification.webhooks.claims import Claimed
from skiff_notification.webhooks.fanout import CHANNEL
from skiff_notification.webhooks.models import (
    ENDPOINT_DISABLED,
    FAILED,
    MANUAL,
    PENDING,
    SCHEDULED,
    SUCCEEDED,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from skiff_notification.webhooks.notices import Notifier
from skiff_notification.webhooks.schedule import next_delay
from skiff_notification.webhooks.sender import TIMEOUT, Outcome

WARNING_AHEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Result:
    claimed: Claimed
    outcome: Outcome
    started_at: datetime


# Due messages of these endpoints wait (for the room the recorded attempts just gave back).
_WAITING = """
    EXISTS (
        SELECT 1 FROM webhook_messages
        WHERE endpoint_id = ANY(CAST(:endpoints AS text[])) AND status = 'pending'
          AND next_attempt_at <= :now
    )
"""
_WAKE_IF_WAITING = text(f"SELECT pg_notify(:channel, 'due') WHERE {_WAITING}")

# The usual outcome, in one statement: lock the messages still there (an endpoint deleted
# meanwhile took its own), log the attempts, mark them succeeded, end their endpoints' runs of
# failures, and wake the dispatchers if those endpoints have messages waiting for the room.
_SUCCEEDED = text(
    f"""
    WITH sent AS (
        SELECT * FROM unnest(
            CAST(:ids AS text[]), CAST(:endpoint_ids AS text[]), CAST(:ats AS timestamptz[]),
            CAST(:triggers AS text[]), CAST(:codes AS int[]), CAST(:durations AS int[]),
            CAST(:excerpts AS text[])
        ) AS s(message_id, endpoint_id, at, trigger, status_code, duration_ms, excerpt)
    ),
    alive AS (
        SELECT m.id FROM webhook_messages m WHERE m.id = ANY(CAST(:ids AS text[])) FOR UPDATE
    ),
    logged AS (
        INSERT INTO webhook_attempts
            (message_id, endpoint_id, at, trigger, status_code, duration_ms, response_excerpt)
        SELECT s.message_id, s.endpoint_id, s.at, s.trigger, s.status_code, s.duration_ms,
               s.excerpt
        FROM sent s JOIN alive a ON a.id = s.message_id
    ),
    done AS (
        UPDATE webhook_messages m
        SET status = '{SUCCEEDED}', attempts = m.attempts + 1, manual = false,
            next_attempt_at = NULL, last_attempt_at = s.at, succeeded_at = s.at
        FROM sent s JOIN alive a ON a.id = s.message_id
        WHERE m.id = s.message_id
    ),
    healed AS (
        UPDATE webhook_endpoints e
        SET failing_since = NULL, failing_notice_at = NULL, warning_notice_at = NULL
        WHERE e.id = ANY(CAST(:endpoint_ids AS text[])) AND e.failing_since IS NOT NULL
    )
    SELECT pg_notify(:channel, 'due') WHERE {_WAITING}
    """  # noqa: S608 (constant fragments, no input)
)


async def apply(
    session: AsyncSession,
    results: list[Result],
    *,
    now: datetime,
    disable_after: timedelta,
    notifier: Notifier,
) -> None:
    """Record every result; messages deleted meanwhile (endpoint deleted) are skipped."""
    ok = [r for r in results if r.outcome.succeeded]
    if ok:
        await session.execute(_SUCCEEDED, _succeeded_params(ok, now))
    failed = [r for r in results if not r.outcome.succeeded]
    if not failed:
        return
    ids = [r.claimed.id for r in failed]
    alive = set(
        await session.scalars(
            select(WebhookMessage.id).where(WebhookMessage.id.in_(ids)).with_for_update()
        )
    )
    failed = [r for r in failed if r.claimed.id in alive]
    if not failed:
        return
    await session.execute(insert(WebhookAttempt), [_attempt_row(r) for r in failed])
    await _failures(session, failed, now=now, disable_after=disable_after, notifier=notifier)
    endpoints = sorted({r.claimed.endpoint_id for r in failed})
    await session.execute(
        _WAKE_IF_WAITING, {"channel": CHANNEL, "endpoints": endpoints, "now": now}
    )


def _succeeded_params(ok: list[Result], now: datetime) -> dict[str, object]:
    return {
        "ids": [r.claimed.id for r in ok],
        "endpoint_ids": [r.claimed.endpoint_id for r in ok],
        "ats": [r.started_at for r in ok],
        "triggers": [MANUAL if r.claimed.manual else SCHEDULED for r in ok],
        "codes": [r.outcome.status_code for r in ok],
        "durations": [r.outcome.duration_ms for r in ok],
        "excerpts": [r.outcome.excerpt for r in ok],
        "channel": CHANNEL,
        "endpoints": sorted({r.claimed.endpoint_id for r in ok}),
        "now": now,
    }


async def _failures(
    session: AsyncSession,
    failed: list[Result],
    *,
    now: datetime,
    disable_after: timedelta,
    notifier: Notifier,
) -> None:
    endpoint_ids = sorted({r.claimed.endpoint_id for r in failed})  # one lock order everywhere
    endpoints = {
        e.id: e
        for e in await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids))
            .order_by(WebhookEndpoint.id)
            .with_for_update()
        )
    }
    messages = {
        m.id: m
        for m in await session.scalars(
            select(WebhookMessage).where(WebhookMessage.id.in_([r.claimed.id for r in failed]))
        )
    }
    for result in failed:
        endpoint = endpoints.get(result.claimed.endpoint_id)
        message = messages.get(result.claimed.id)
        if endpoint is None or message is None:
            continue
        await _one_failure(session, endpoint, message, result, now=now, notifier=notifier)
    for endpoint in endpoints.values():
        await check_health(
            session, endpoint, now=now, disable_after=disable_after, notifier=notifier
        )


async def _one_failure(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    message: WebhookMessage,
    result: Result,
    *,
    now: datetime,
    notifier: Notifier,
) -> None:
    outcome = result.outcome
    message.attempts += 1
    message.last_attempt_at = result.started_at
    if endpoint.enabled and endpoint.failing_since is None:
        endpoint.failing_since = result.started_at
    if outcome.status_code == 410 and endpoint.enabled:
        await service.disable(session, endpoint, reason="gone", now=now)
        await notifier.disabled(session, endpoint)
    if not endpoint.enabled:
        message.status, message.next_attempt_at, message.manual = ENDPOINT_DISABLED, None, False
        return
    delay = None
    if not message.manual:
        delay = next_delay(
            message.attempts,
            status_code=outcome.status_code,
            timed_out=outcome.error == TIMEOUT,
            retry_after=outcome.retry_after,
        )
    message.manual = False
    if delay is not None:
        message.status, message.next_attempt_at = PENDING, now + delay
        return
    message.status, message.next_attempt_at = FAILED, None
    if endpoint.failing_notice_at is None and not result.claimed.manual:
        endpoint.failing_notice_at = now
        await notifier.failing(session, endpoint, now)


async def check_health(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    now: datetime,
    disable_after: timedelta,
    notifier: Notifier,
) -> None:
    """Disable an endpoint failing for `disable_after`; warn its owners a day before."""
    if not endpoint.enabled or endpoint.failing_since is None:
        return
    if now - endpoint.failing_since >= disable_after:
        await service.disable(session, endpoint, reason="failing", now=now)
        await notifier.disabled(session, endpoint)
    elif (
        now - endpoint.failing_since >= disable_after - WARNING_AHEAD
        and endpoint.warning_notice_at is None
    ):
        endpoint.warning_notice_at = now
        await notifier.disabling_soon(session, endpoint, endpoint.failing_since + disable_after)


def _attempt_row(result: Result) -> dict[str, object]:
    return {
        "message_id": result.claimed.id,
        "endpoint_id": result.claimed.endpoint_id,
        "at": result.started_at,
        "trigger": MANUAL if result.claimed.manual else SCHEDULED,
        "status_code": result.outcome.status_code,
        "error": result.outcome.error,
        "duration_ms": result.outcome.duration_ms,
        "response_excerpt": result.outcome.excerpt,
    }
