"""`?wait=true`: the task's result gathered from LIVE (subscribed before it was dispatched)."""

from __future__ import annotations

import time

from skiff_orchestrator.live.feed import LiveFeed
from skiff_orchestrator.live.follow import LoadTask
from skiff_orchestrator.live.items import is_final_task_status
from skiff_orchestrator.models import TERMINAL_TASK_STATUSES
from skiff_orchestrator.tasks.presenter import task_result
from skiff_orchestrator.tasks.schemas import TaskResult


class _Transcript:
    """stdout and stderr, each cut at `limit` bytes (then `truncated`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.sizes = {"stdout": 0, "stderr": 0}
        self.truncated = False

    def add(self, stream: str, data: str) -> None:
        if stream not in self.parts:
            return
        room = self.limit - self.sizes[stream]
        encoded = data.encode()
        if len(encoded) > room:
            encoded = encoded[: max(0, room)]
            self.truncated = True
        self.parts[stream].append(encoded.decode(errors="ignore"))
        self.sizes[stream] += len(encoded)

    def text(self, stream: str) -> str:
        return "".join(self.parts[stream])


async def result_of(
    feed: LiveFeed,
    task_id: str,
    *,
    within: float,
    poll: float,
    output_limit: int,
    load: LoadTask,
) -> TaskResult | None:
    """The result once the task ends, or None if it still runs after `within` seconds."""
    transcript = _Transcript(output_limit)
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        got = await feed.next(timeout=min(poll, left))
        if got is None:
            row = await load()
            if row is not None and row.status in TERMINAL_TASK_STATUSES:
                return task_result(row)
            continue
        live = got.event
        if live.kind == "output" and live.stream and live.data is not None:
            transcript.add(live.stream, live.data)
        elif is_final_task_status(live, task_id):
            assert live.status is not None
            return TaskResult(
                id=task_id,
                status=live.status,
                exit_code=live.exit_code,
                stdout=transcript.text("stdout"),
                stderr=transcript.text("stderr"),
                truncated=transcript.truncated or bool(live.truncated),
                duration_ms=live.duration_ms,
                error=live.error,
            )
    return None
