"""Publishes live events (task output and status, session status) to the LIVE stream."""

from __future__ import annotations

import msgspec
import structlog
from nats.js import JetStreamContext
from skiff_contracts.live import LiveEvent, session_status_subject, task_subject
from skiff_messaging.provision import provisioned
from skiff_messaging.streams import ensure_live_stream

from skiff_sandbox_runner.metering import utcnow

log = structlog.get_logger("skiff_sandbox_runner.live")


class LivePublisher:
    """Each publish waits for the stream's ack, so one task's events keep their order.

    Live output is best effort (DESIGN.md, Events): a failed publish is logged and dropped,
    the durable transcript travels in `sandbox.task.completed`. LIVE lives in memory: a
    publish that finds it gone (NATS restarted) makes it again and tries once more.
    """

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def publish(self, event: LiveEvent) -> None:
        subject = (
            task_subject(event.session_id, event.task_id)
            if event.task_id is not None
            else session_status_subject(event.session_id)
        )
        data = msgspec.json.encode(event)
        try:
            await provisioned(
                lambda: self.js.publish(subject, data), lambda: ensure_live_stream(self.js)
            )
        except Exception as exc:
            log.warning("live event dropped", subject=subject, error=repr(exc))

    async def session_status(self, session_id: str, status: str) -> None:
        """The session entered `status` (running, paused, stopped, failed)."""
        await self.publish(
            LiveEvent(kind="status", session_id=session_id, status=status, at=utcnow())
        )
