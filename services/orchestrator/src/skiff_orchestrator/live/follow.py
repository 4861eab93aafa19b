"""Following a task or a session live: LIVE events in order, heartbeats, and the end.

The row is the truth: at each heartbeat the task (or session) row is read again, so a stream
ends even if the final live event was lost; a finished task whose live events expired is
rebuilt from its row.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from nats.aio.client import Client as NATS
from skiff_contracts.live import session_subjects, task_subject
from skiff_messaging.aio import raise_if_cancelled

from skiff_orchestrator.live import items
from skiff_orchestrator.live.feed import LiveFeed, Sequenced, last_of, live_feed
from skiff_orchestrator.models import (
    TERMINAL_SESSION_STATUSES,
    TERMINAL_TASK_STATUSES,
    Session,
    Task,
)

LoadTask = Callable[[], Awaitable[Task | None]]
LoadSession = Callable[[], Awaitable[Session | None]]


async def follow_task(
    nc: NATS, task: Task, *, after: int | None, heartbeat: float, load: LoadTask
) -> AsyncGenerator[items.StreamItem, None]:
    """A task's output and status from LIVE (after `after`), then `end`."""
    subject = task_subject(task.session_id, task.id)
    # A task that has ended already: LIVE holds nothing of it newer than `last_seq`.
    last_seq: int | None = None
    if task.status in TERMINAL_TASK_STATUSES:
        last = await last_of(nc, subject)
        if last is None:
            for item in items.rebuilt_from_row(task):
                yield item
            return
        last_seq = last.seq
        if after is not None and after >= last.seq:
            if not items.is_final_task_status(last.event, task.id):
                yield items.task_status_from_row(task)
            yield items.end(task_id=task.id, status=task.status)
            return
    async with live_feed(nc, subject, after=after) as feed:
        async for got in _events_and_heartbeats(feed, heartbeat):
            if got is None:
                yield items.heartbeat()
                row = await load()
                if row is not None and row.status in TERMINAL_TASK_STATUSES:
                    yield items.task_status_from_row(row)
                    yield items.end(task_id=row.id, status=row.status)
                    return
                continue
            yield items.from_live(got.seq, got.event)
            if items.is_final_task_status(got.event, task.id):
                yield items.end(task_id=task.id, status=got.event.status)
                return
            if last_seq is not None and got.seq >= last_seq:
                # It ended without a final live status (the orchestrator failed it when its
                # session ended, say): the row says how, now rather than at a heartbeat.
                yield items.task_status_from_row(task)
                yield items.end(task_id=task.id, status=task.status)
                return


async def follow_session(
    nc: NATS,
    session: Session,
    *,
    after: int | None,
    heartbeat: float,
    load: LoadSession,
) -> AsyncGenerator[items.StreamItem, None]:
    """Everything live about a session (its status, its tasks); `end` once it is over."""
    async with live_feed(nc, session_subjects(session.id), after=after) as feed:
        async for got in _events_and_heartbeats(feed, heartbeat):
            if got is None:
                yield items.heartbeat()
                row = await load()
                if row is not None and row.status in TERMINAL_SESSION_STATUSES:
                    yield items.end(session_id=row.id, status=row.status)
                    return
                continue
            yield items.from_live(got.seq, got.event)
            if items.is_final_session_status(got.event):
                yield items.end(session_id=session.id, status=got.event.status)
                return


async def _events_and_heartbeats(
    feed: LiveFeed, heartbeat: float
) -> AsyncIterator[Sequenced | None]:
    """Each event as it comes, and None every `heartbeat` seconds (events or not)."""
    due = time.monotonic() + heartbeat
    while True:
        raise_if_cancelled()
        got = await feed.next(timeout=max(0.001, due - time.monotonic()))
        if got is not None:
            yield got
        if time.monotonic() >= due:
            yield None
            due = time.monotonic() + heartbeat
