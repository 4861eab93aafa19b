"""What a client sends on a session's WebSocket: exec, stdin and cancel."""

from __future__ import annotations

import msgspec


class _Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    pass


class Exec(_Message, tag="exec"):
    command: str
    timeout_seconds: int | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    stdin: str | None = None


class Stdin(_Message, tag="stdin"):
    """`task_id` defaults to the last task started on this socket."""

    data: str = ""
    eof: bool = False
    task_id: str | None = None


class Cancel(_Message, tag="cancel"):
    task_id: str | None = None


Inbound = Exec | Stdin | Cancel
decode_inbound = msgspec.json.Decoder(Inbound).decode
