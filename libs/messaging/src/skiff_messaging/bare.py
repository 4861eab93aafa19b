"""Handlers that first try an event on a bare asyncpg connection, without a session.

A session around a small transaction costs a hot consumer more CPU than the transaction
itself (making it, checkout, BEGIN, COMMIT, close). A `BareHandler` gives the consumer a
second way in: `on_connection(connection, envelope, payload)` runs on one of the engine's
pooled asyncpg connections, inside a transaction whose first statement claimed the event's
inbox row (BEGIN and the claim in one round trip). It answers `Commit(...)` to commit (its
writes and the inbox row together; statements it gives go in COMMIT's round trip, see
`Outbox.record_with_commit`), or None when it needs the session after all (its rules write
through the ORM, say): then that transaction is rolled back, inbox row included, and the
event goes through `on_session` as any other handler's, claim and all. A raise rolls back
too, and the consumer retries or dead-letters as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from skiff_contracts import Envelope
from skiff_kit.driver import driver_connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from skiff_messaging.inbox import claim_on


@dataclass(frozen=True)
class Commit:
    """A bare handler's answer: commit. `statements` go before COMMIT and `after` after it,
    all in COMMIT's round trip (one simple query: values as literals, see
    skiff_messaging.literals); `after` runs only once COMMIT succeeded, outside the
    transaction (Outbox.record_with_commit's note)."""

    statements: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.after and not self.statements:
            # A statement before COMMIT is what fails when an error had aborted the
            # transaction (COMMIT itself would answer ROLLBACK, and `after` still run).
            raise ValueError("statements after COMMIT need one before it")

    def query(self) -> str:
        return "; ".join([*self.statements, "COMMIT", *self.after])


ConnectionHandler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[Commit | None]]
SessionHandler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class BareHandler:
    """`on_connection` first; `on_session` when it declines. Called like a plain handler
    (with a session), it is `on_session`, so it fits wherever a `Handler` does."""

    on_connection: ConnectionHandler
    on_session: SessionHandler

    async def __call__(self, session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await self.on_session(session, envelope, payload)


def engine_of(session_factory: async_sessionmaker[AsyncSession]) -> AsyncEngine | None:
    """The engine a session factory binds to, if it is one (bare handlers need its pool)."""
    bind = session_factory.kw.get("bind")
    return bind if isinstance(bind, AsyncEngine) else None


async def apply_bare(
    engine: AsyncEngine, consumer: str, envelope: Envelope, payload: Any, handler: BareHandler
) -> bool | None:
    """True when applied and committed, False for a duplicate, None when the handler declined
    (nothing of this attempt is left: the caller goes the session's way)."""
    async with driver_connection(engine) as connection:
        try:
            if not await claim_on(connection, consumer, envelope.id):
                await connection.execute("ROLLBACK")
                return False
            done = await handler.on_connection(connection, envelope, payload)
            if done is None:
                await connection.execute("ROLLBACK")
                return None
            status = await connection.execute(done.query())
        except Exception:
            # One that cannot roll back is closed, not pooled again (driver_connection).
            with contextlib.suppress(Exception):
                await connection.execute("ROLLBACK")
            raise
    # PostgreSQL answers COMMIT with ROLLBACK when an error had aborted the transaction.
    if not done.after and status != "COMMIT":
        raise RuntimeError(f"{consumer}: {envelope.id} was rolled back at COMMIT ({status})")
    return True
