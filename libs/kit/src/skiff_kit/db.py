"""SQLAlchemy async engine per service schema, and one transaction per request."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from skiff_kit.driver import keep_spares
from skiff_kit.errors import ServiceUnavailable

DbSession = NamedDependency[AsyncSession]
"""Annotation of a handler parameter named `db_session`: `db_session: DbSession`."""

_ASYNCPG_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def asyncpg_url(url: str) -> str:
    """`url` in SQLAlchemy's asyncpg form (a plain libpq `postgresql://` URL is accepted)."""
    for scheme in _ASYNCPG_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url[len(scheme) :]
    return url


def engine_options(*, schema: str | None, application_name: str | None = None) -> dict[str, Any]:
    """`connect_args` for asyncpg: `search_path` pinned to the service's schema."""
    server_settings: dict[str, str] = {}
    if schema:
        server_settings["search_path"] = schema
    if application_name:
        server_settings["application_name"] = application_name
    return {"server_settings": server_settings} if server_settings else {}


def create_engine(
    url: str,
    *,
    schema: str | None,
    pool_size: int = 10,
    max_overflow: int = 10,
    application_name: str | None = None,
) -> AsyncEngine:
    """An asyncpg engine whose connections see only `schema` (via `search_path`).

    A pooled connection the server closed (a restart, a kill, an idle timeout) is replaced
    when checked out, as `pool_pre_ping` would, but without its three round trips (BEGIN,
    `;`, ROLLBACK on every checkout, a third of a small transaction's): asyncpg sees the
    server's end of the socket as soon as it comes, so the check reads a flag. One that
    breaks mid-statement is dropped by SQLAlchemy's disconnect handling, as before.
    """
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=engine_options(schema=schema, application_name=application_name),
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    keep_spares(engine, pool_size)
    return engine


def _replace_if_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pool checkout: a closed connection is discarded and another one taken."""
    if record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def check_database(engine: AsyncEngine) -> None:
    """Readiness: `select 1` answers (raises otherwise)."""
    async with engine.connect() as connection:
        await connection.execute(text("select 1"))


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    """Litestar dependency `db_session`: commit when the handler returns, roll back if it raised."""
    factory: async_sessionmaker[AsyncSession] | None = state.get("db_session_factory")
    if factory is None:
        raise ServiceUnavailable("This service has no database configured")
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


class AppSessions:
    """The app's session factory, for code that runs outside a request (a request/reply
    responder, a loop): add `bound` to the app's lifespans, before the bus's."""

    def __init__(self) -> None:
        self._factory: async_sessionmaker[AsyncSession] | None = None

    @contextlib.asynccontextmanager
    async def bound(self, app: Any) -> AsyncIterator[None]:
        """A Litestar lifespan: the kit's session factory while the app runs."""
        self._factory = app.state.get("db_session_factory")
        try:
            yield
        finally:
            self._factory = None

    @property
    def factory(self) -> async_sessionmaker[AsyncSession] | None:
        """The factory; None while the app is not running or has no database."""
        return self._factory
