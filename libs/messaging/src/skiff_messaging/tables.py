"""The outbox, inbox and dead-letter tables every service schema carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.schema import SchemaItem

if TYPE_CHECKING:
    from alembic.operations import Operations

OUTBOX = "outbox"
INBOX = "inbox"
DEAD_LETTERS = "dead_letters"


def _outbox_columns() -> list[SchemaItem]:
    return [
        Column("id", Text, primary_key=True, comment="the event id, also its Nats-Msg-Id"),
        Column("subject", Text, nullable=False, comment="the NATS subject"),
        Column("payload", LargeBinary, nullable=False, comment="the encoded envelope"),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        # Insertion order, even within one transaction (ids and now() do not give it).
        Column("seq", BigInteger, Identity(always=True), nullable=False),
    ]


def _inbox_columns() -> list[SchemaItem]:
    return [
        Column("consumer", Text, nullable=False),
        Column("event_id", Text, nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    ]


def _dead_letter_columns() -> list[SchemaItem]:
    return [
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer", Text, nullable=False),
        Column("event_id", Text, nullable=True),
        Column("subject", Text, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("reason", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ]


@dataclass(frozen=True)
class MessagingTables:
    """The three tables, as SQLAlchemy Core `Table`s of one MetaData."""

    outbox: Table
    inbox: Table
    dead_letters: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define outbox, inbox and dead_letters on `metadata` (no schema: the search_path's)."""
    outbox = Table(OUTBOX, metadata, *_outbox_columns())
    Index("ix_outbox_seq", outbox.c.seq)
    inbox = Table(INBOX, metadata, *_inbox_columns())
    Index("ix_inbox_handled_at", inbox.c.handled_at)
    dead_letters = Table(DEAD_LETTERS, metadata, *_dead_letter_columns())
    Index("ix_dead_letters_consumer_failed_at", dead_letters.c.consumer, dead_letters.c.failed_at)
    return MessagingTables(outbox=outbox, inbox=inbox, dead_letters=dead_letters)


def create_messaging_tables(op: Operations) -> None:
    """For a service's first Alembic migration: `create_messaging_tables(op)` in `upgrade()`."""
    op.create_table(OUTBOX, *_outbox_columns())
    op.create_index("ix_outbox_seq", OUTBOX, ["seq"])
    op.create_table(INBOX, *_inbox_columns())
    op.create_index("ix_inbox_handled_at", INBOX, ["handled_at"])
    op.create_table(DEAD_LETTERS, *_dead_letter_columns())
    op.create_index("ix_dead_letters_consumer_failed_at", DEAD_LETTERS, ["consumer", "failed_at"])


def drop_messaging_tables(op: Operations) -> None:
    """The matching `downgrade()`."""
    op.drop_table(DEAD_LETTERS)
    op.drop_table(INBOX)
    op.drop_table(OUTBOX)
