"""Record events in the caller's transaction (transactional outbox), announced by NOTIFY."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from skiff_contracts import Envelope, EventPayload
from sqlalchemy import LargeBinary, Text, bindparam, column, func, select, table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_messaging import literals
from skiff_messaging.bare import Commit
from skiff_messaging.errors import EventTooLarge
from skiff_messaging.limits import max_payload, message_size
from skiff_messaging.tables import OUTBOX
from skiff_messaging.tracing import trace_headers

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; keep a margin.
NOTE_LIMIT = 7900

_outbox = table(
    OUTBOX,
    column("id", Text),
    column("subject", Text),
    column("payload", LargeBinary),
    column("headers", JSONB),
)
_recorded = (
    pg_insert(_outbox)
    .values(
        id=bindparam("event_id", type_=Text),
        subject=bindparam("nats_subject", type_=Text),
        payload=bindparam("envelope", type_=LargeBinary),
        headers=bindparam("trace_headers", type_=JSONB),
    )
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_outbox.c.id)
    .cte("recorded")
)
# One round trip: the INSERT and the NOTIFY (queued until COMMIT, dropped on ROLLBACK). An id
# already waiting in the outbox is not recorded (nor announced) twice.
_RECORD = select(
    func.pg_notify(bindparam("channel", type_=Text), bindparam("note", type_=Text))
).select_from(_recorded)
# The same statement as plain SQL, for `Outbox.record_on` (the table name is a constant).
_RECORD_SQL = (
    f"WITH recorded AS (INSERT INTO {OUTBOX} (id, subject, payload, headers)"  # noqa: S608
    " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id)"
    " SELECT pg_notify($5, $6) FROM recorded"
)


@dataclass(frozen=True, slots=True)
class Note:
    """What a NOTIFY announces: the event id and, when it fits, everything needed to publish."""

    event_id: str
    subject: str | None = None
    headers: dict[str, str] | None = None
    payload: bytes | None = None


def encode_note(event_id: str, subject: str, headers: dict[str, str], payload: bytes) -> str:
    """`id\\nsubject\\nheaders-json\\nenvelope`, or just the id when that would be too long."""
    # Compact JSON has no raw newline, ids and subjects are checked to have none either.
    head = f"{event_id}\n{subject}\n".encode() + msgspec.json.encode(headers) + b"\n"
    if len(head) + len(payload) >= NOTE_LIMIT:
        return event_id
    return (head + payload).decode()


def decode_note(note: str) -> Note:
    """The inverse of `encode_note`."""
    parts = note.split("\n", 3)
    if len(parts) != 4:
        return Note(event_id=note)
    event_id, subject, headers, payload = parts
    decoded = msgspec.json.decode(headers, type=dict[str, str])
    return Note(event_id=event_id, subject=subject, headers=decoded, payload=payload.encode())


def _check_token(what: str, value: str) -> None:
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"{what} must be non-empty and without whitespace, got {value!r}")


async def _record_on(connection: asyncpg.Connection, params: dict[str, Any], headers: str) -> None:
    await connection.execute(
        _RECORD_SQL,
        params["event_id"],
        params["nats_subject"],
        params["envelope"],
        headers,
        params["channel"],
        params["note"],
    )


class Outbox:
    """Writes events into this service's `outbox` table, inside the caller's transaction."""

    def __init__(self, *, source: str, channel: str) -> None:
        if not channel.isidentifier():
            raise ValueError(f"channel must be a plain identifier, got {channel!r}")
        self.source = source
        self.channel = channel

    async def record(
        self,
        session: AsyncSession,
        payload: EventPayload,
        *,
        subject: str | None = None,
        organization_id: str | None = None,
        event_id: str | None = None,
        nats_subject: str | None = None,
    ) -> Envelope:
        """Add an event to the current transaction; it is published once that commits.

        `subject` is the CloudEvents subject (what the event is about, e.g. an id);
        `nats_subject` defaults to the event type. Never commits: the caller does. An event
        that would not fit in one NATS message (headers included) raises `EventTooLarge`
        here, so nothing unpublishable is ever committed. A fixed
        `event_id` (a naturally idempotent id) recorded again while the first is still in the
        outbox is a no-op; recorded again later, the stream's de-duplication window and the
        consumers' inboxes drop the repeat.
        """
        envelope, params = self._prepared(payload, subject, organization_id, event_id, nats_subject)
        await session.execute(_RECORD, params)
        return envelope

    async def record_on(
        self,
        connection: asyncpg.Connection,
        payload: EventPayload,
        *,
        subject: str | None = None,
        organization_id: str | None = None,
        event_id: str | None = None,
        nats_subject: str | None = None,
    ) -> Envelope:
        """`record`, on the asyncpg connection under the caller's session: the same row and
        note, without SQLAlchemy's per-statement work (for hot paths that already talk to the
        driver). The transaction must be open on the driver already: SQLAlchemy's asyncpg
        adapter sends BEGIN lazily, before its own first statement, and a statement sent
        before that would commit on its own."""
        envelope, params = self._prepared(payload, subject, organization_id, event_id, nats_subject)
        await _record_on(connection, params, msgspec.json.encode(params["trace_headers"]).decode())
        return envelope

    async def record_with_commit(
        self,
        connection: asyncpg.Connection,
        payload: EventPayload,
        *,
        subject: str | None = None,
        organization_id: str | None = None,
    ) -> Commit:
        """`record_on` for a bare handler (skiff_messaging.bare): the row goes with COMMIT,
        in its round trip, and the NOTIFY right after it, in a transaction of its own.

        Why after: PostgreSQL serialises the commits of transactions that notify (a
        database-wide lock held through the commit's flush to disk), so a hot path that
        notifies in its transaction commits one at a time. A note sent after COMMIT, in a
        transaction that does not wait for its flush (it holds nothing but the note), keeps
        the lock for microseconds; the row itself is committed durably first. The note is
        sent only once COMMIT succeeded, in the same simple query; one lost with a crash
        in between is the relay's drain's, as any lost note. Values go in as literals
        (skiff_messaging.literals); where they cannot, the event is recorded now, as
        `record_on` does. A fresh event id only: a fixed one may be waiting already.
        """
        _, params = self._prepared(payload, subject, organization_id, None, None)
        headers = msgspec.json.encode(params["trace_headers"]).decode()
        texts = (params["event_id"], params["nats_subject"], headers, params["note"])
        if not literals.quotable(connection, *texts):
            await _record_on(connection, params, headers)
            return Commit()
        row_id, routed, traced, note = (literals.text(value) for value in texts)
        insert = (
            f"INSERT INTO {OUTBOX} (id, subject, payload, headers)"  # noqa: S608
            f" VALUES ({row_id}, {routed}, {literals.bytea(params['envelope'])}, {traced}::jsonb)"
        )
        announce = (
            "SELECT set_config('synchronous_commit', 'off', true),"
            f" pg_notify({literals.text(self.channel)}, {note})"
        )
        return Commit((insert,), after=(announce,))

    def _prepared(
        self,
        payload: EventPayload,
        subject: str | None,
        organization_id: str | None,
        event_id: str | None,
        nats_subject: str | None,
    ) -> tuple[Envelope, dict[str, Any]]:
        """The envelope, checked to be publishable, and the recording statement's values."""
        headers = trace_headers()
        envelope = Envelope.wrap(
            payload,
            source=self.source,
            subject=subject,
            organization_id=organization_id,
            traceparent=headers.get("traceparent"),
            event_id=event_id,
        )
        _check_token("event id", envelope.id)
        routed = nats_subject or payload.event_type
        _check_token("subject", routed)
        raw = envelope.encode()
        size = message_size(raw, {**headers, "Nats-Msg-Id": envelope.id})
        if size > (limit := max_payload()):
            raise EventTooLarge(payload.event_type, size, limit)
        return envelope, {
            "event_id": envelope.id,
            "nats_subject": routed,
            "envelope": raw,
            "trace_headers": headers,
            "channel": self.channel,
            "note": encode_note(envelope.id, routed, headers, raw),
        }
