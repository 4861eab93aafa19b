"""What a live stream sends: `output`, `status`, `heartbeat` and `end`, the same for SSE and WS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from skiff_contracts.live import LiveEvent
from skiff_kit.errors import ValidationFailed

from skiff_orchestrator.models import TERMINAL_SESSION_STATUSES, TERMINAL_TASK_STATUSES, Task


@dataclass(frozen=True)
class StreamItem:
    """One event of a stream; `id` is its LIVE sequence (None for heartbeats and rebuilt ones)."""

    event: str
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def json(self) -> str:
        return msgspec.json.encode(self.data).decode()


def from_live(seq: int, live: LiveEvent) -> StreamItem:
    data = {k: v for k, v in msgspec.to_builtins(live).items() if k != "kind"}
    return StreamItem(event=live.kind if live.kind == "output" else "status", data=data, id=seq)


def heartbeat() -> StreamItem:
    return StreamItem(event="heartbeat", data={"at": datetime.now(UTC).isoformat()})


def end(**data: Any) -> StreamItem:
    return StreamItem(event="end", data=data)


def is_final_task_status(live: LiveEvent, task_id: str) -> bool:
    return (
        live.kind == "status" and live.task_id == task_id and live.status in TERMINAL_TASK_STATUSES
    )


def is_final_session_status(live: LiveEvent) -> bool:
    return (
        live.kind == "status" and live.task_id is None and live.status in TERMINAL_SESSION_STATUSES
    )


def task_status_from_row(task: Task) -> StreamItem:
    data: dict[str, Any] = {
        "session_id": task.session_id,
        "task_id": task.id,
        "status": task.status,
        "exit_code": task.exit_code,
        "duration_ms": task.duration_ms,
        "truncated": task.truncated,
        "error": task.error,
        "at": (task.finished_at or datetime.now(UTC)).isoformat(),
    }
    return StreamItem(event="status", data={k: v for k, v in data.items() if v is not None})


def rebuilt_from_row(task: Task) -> list[StreamItem]:
    """A finished task whose live events are gone: its transcript, final status and end."""
    items: list[StreamItem] = []
    seq = 0
    for stream, text in (("stdout", task.stdout), ("stderr", task.stderr)):
        if text:
            seq += 1
            data = {"session_id": task.session_id, "task_id": task.id, "stream": stream}
            items.append(StreamItem(event="output", data={**data, "data": text, "seq": seq}))
    items.append(task_status_from_row(task))
    items.append(end(task_id=task.id, status=task.status))
    return items


_MAX_SEQUENCE = 2**63 - 1


def resume_point(header: str | None, query: str | None) -> int | None:
    """`Last-Event-ID` (or `?last_event_id=`): the last LIVE sequence the client saw."""
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    assert raw is not None
    # ASCII digits only (str.isdigit takes "²" too), and a sequence JetStream can start after.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) >= _MAX_SEQUENCE:
        raise ValidationFailed(
            "Last-Event-ID must be an event id from this stream.",
            details={"fields": [{"field": "Last-Event-ID", "message": "must be a number"}]},
        )
    return int(raw)
