"""Bare asyncpg connections from an engine's pool, for the hot paths that write their own SQL.

A session around a small transaction costs more than the transaction. So does the pool's own
check-out and check-in: two greenlet switches and the pool's events, about 0.1 ms of a hold
call's 1 ms here (bench/billing). An engine made by `skiff_kit.db.create_engine` therefore
keeps a few of the connections lent bare (`Spares`) between uses: the next use takes one
from a list. Kept, they stay checked out of the engine's pool, within its size (at most half
of it), and they are closed when the engine is disposed.
"""

from __future__ import annotations

import weakref
from typing import Any

import asyncpg
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

MAX_SPARES = 4

# An engine's spares, by its sync engine (an AsyncEngine is a proxy made on demand).
_spares: weakref.WeakKeyDictionary[Engine, Spares] = weakref.WeakKeyDictionary()


class Spares:
    """Pooled connections given back by `driver_connection` and kept for its next use."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        # The pool's proxy (PoolProxiedConnection) and its asyncpg connection, read once: the
        # proxy's `driver_connection` is three properties deep.
        self.idle: list[tuple[Any, asyncpg.Connection]] = []

    def close_all(self, _engine: Engine) -> None:
        """`engine_disposed`, in the dispose's greenlet: the pool they came from is gone."""
        idle, self.idle = self.idle, []
        for pooled, _connection in idle:
            pooled.invalidate()


def keep_spares(engine: AsyncEngine, pool_size: int) -> None:
    """Let `driver_connection` keep up to half of `pool_size` (at most MAX_SPARES) connections
    of `engine` between uses; disposing of the engine closes them."""
    spares = Spares(keep=min(MAX_SPARES, pool_size // 2))
    _spares[engine.sync_engine] = spares
    event.listen(engine.sync_engine, "engine_disposed", spares.close_all)


class driver_connection:  # a lower-case name: used like the function it was
    """One of the engine's pooled asyncpg connections, bare: no session, no statement compiled.

    For the few hot paths whose every statement is written by hand (a database function, an
    insert). The connection comes from the engine's spares or its pool (the same size budget,
    the same closed-socket check) and goes back to them. Outside `connection.transaction()`
    each statement commits on its own. Leave no transaction open: a connection given back
    inside one (the block raised mid-way, or a bug) is closed rather than kept, which rolls it
    back.

    A class rather than `@asynccontextmanager`, and no coroutine of its own on the usual road:
    between two round trips, where the caches are cold, a generator's machinery cost 7-11 us
    per use (measured on a hold call's path), more than the rest of this.
    """

    __slots__ = ("connection", "engine", "pooled", "spares")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.spares = _spares.get(engine.sync_engine)
        self.pooled: Any = None
        self.connection: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        spares = self.spares
        if spares is not None:
            idle = spares.idle
            while idle:
                pooled, connection = idle.pop()
                if not connection.is_closed():
                    self.pooled, self.connection = pooled, connection
                    return connection
                await greenlet_spawn(pooled.invalidate)  # the server closed it while it waited
        pooled = await self.engine.raw_connection()
        self.pooled, self.connection = pooled, pooled.driver_connection
        return self.connection

    async def __aexit__(self, *_exc: object) -> None:
        pooled, connection, spares = self.pooled, self.connection, self.spares
        self.pooled = self.connection = None
        if connection.is_closed() or connection.is_in_transaction():
            await greenlet_spawn(pooled.invalidate)
        elif spares is not None and len(spares.idle) < spares.keep:
            spares.idle.append((pooled, connection))
        else:
            # In a greenlet, like the engine's own check-ins: an overflow connection the full
            # pool does not keep is closed by the adapter, which awaits the driver from one.
            await greenlet_spawn(pooled.close)
